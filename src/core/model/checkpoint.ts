import type { ModelConfig } from '../../shared/modelConfig';
import { CheckpointError, readSafetensorsFileSync, writeSafetensorsFileSync } from '../io/safetensors';
import { paramSpecs, type HostTensor } from './params';
import { resolveConfig } from './resolveConfig';

export const CHECKPOINT_FORMAT = 'oocr-checkpoint/1';

export interface CheckpointMeta {
  step: number;
  task?: string;
  /** JSON of the task options, so the vocabulary can be rebuilt from the checkpoint alone. */
  taskOptions?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  file: string;
  config: ModelConfig;
  params: Record<string, HostTensor>;
  meta: CheckpointMeta;
}

/**
 * Standard safetensors (float32, TransformerLens tensor names), loadable by Python's safetensors. The
 * resolved model config rides in `__metadata__` so a checkpoint alone defines the model.
 */
export function saveCheckpoint(file: string, config: ModelConfig, params: Record<string, HostTensor>, meta: CheckpointMeta): void {
  for (const [name, t] of Object.entries(params)) {
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new Error(`refusing to save ${file}: parameter ${name} holds a non-finite value`);
    }
  }
  writeSafetensorsFileSync(file, params, {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(config),
    step: String(meta.step),
    ...(meta.task ? { task: meta.task } : {}),
    ...(meta.taskOptions ? { task_options: JSON.stringify(meta.taskOptions) } : {}),
  });
}

/**
 * Reads a checkpoint and checks it against its own config, or against `expected` when the caller
 * wants a particular model: every parameter present with its exact shape, nothing extra.
 */
export function loadCheckpoint(file: string, expected?: ModelConfig): LoadedCheckpoint {
  const { tensors, metadata } = readSafetensorsFileSync(file);
  let config: ModelConfig;
  if (expected) {
    config = expected;
  } else {
    if (!metadata.config) throw new CheckpointError(file, 'no model config in __metadata__ (not an OOCR Workbench checkpoint?)');
    try {
      config = resolveConfig(JSON.parse(metadata.config) as Partial<ModelConfig>);
    } catch (err) {
      throw new CheckpointError(file, `model config in __metadata__ is invalid: ${(err as Error).message}`);
    }
  }
  const problems: string[] = [];
  const specs = paramSpecs(config);
  const params: Record<string, HostTensor> = {};
  for (const s of specs) {
    const t = tensors[s.name];
    if (!t) {
      problems.push(`missing tensor ${s.name} [${s.shape}]`);
    } else if (t.shape.join(',') !== s.shape.join(',')) {
      problems.push(`tensor ${s.name} has shape [${t.shape}] but the model needs [${s.shape}]`);
    } else {
      params[s.name] = t;
    }
  }
  const known = new Set(specs.map((s) => s.name));
  const extra = Object.keys(tensors).filter((n) => !known.has(n));
  if (extra.length) problems.push(`unexpected tensors ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
  if (problems.length) throw new CheckpointError(file, `does not fit the model config: ${problems.slice(0, 6).join('; ')}`);
  const step = metadata.step !== undefined ? Number(metadata.step) : -1;
  let taskOptions: Record<string, unknown> | undefined;
  if (metadata.task_options) {
    try {
      taskOptions = JSON.parse(metadata.task_options) as Record<string, unknown>;
    } catch {
      throw new CheckpointError(file, 'task_options in __metadata__ is not valid JSON');
    }
  }
  return { file, config, params, meta: { step: Number.isFinite(step) ? step : -1, task: metadata.task, taskOptions } };
}
