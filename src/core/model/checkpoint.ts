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

export interface LoadCheckpointOptions {
  /**
   * Where `expected` comes from, for messages ("runs/f/run.json"): a checkpoint that does not fit it is
   * refused naming both that source and what the checkpoint's own config says.
   */
  configSource?: string;
}

/** Fields of two configs that differ, as "ovRank 8 vs 4" (a's value first). */
function configDifferences(a: ModelConfig, b: ModelConfig): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof ModelConfig)[];
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k} ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
}

/** The first non-finite value of a tensor, or -1. */
function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * Reads a checkpoint and checks it against its own config, or against `expected` when the caller
 * wants a particular model (e.g. the config of the run's run.json): every parameter present with its
 * exact shape, nothing extra, and every value finite (NaN/Inf weights would evaluate to a silent
 * accuracy of 0, so they are refused naming the tensor).
 */
export function loadCheckpoint(file: string, expected?: ModelConfig, opts: LoadCheckpointOptions = {}): LoadedCheckpoint {
  const { tensors, metadata } = readSafetensorsFileSync(file);
  let own: ModelConfig | undefined;
  let ownProblem: string | undefined;
  if (metadata.config) {
    try {
      own = resolveConfig(JSON.parse(metadata.config) as Partial<ModelConfig>);
    } catch (err) {
      ownProblem = `model config in __metadata__ is invalid: ${(err as Error).message}`;
    }
  } else {
    ownProblem = 'no model config in __metadata__ (not an OOCR Workbench checkpoint?)';
  }
  let config: ModelConfig;
  if (expected) {
    config = expected;
  } else {
    if (!own) throw new CheckpointError(file, ownProblem ?? 'no model config');
    config = own;
  }
  const source = opts.configSource ?? 'the model config';
  const problems: string[] = [];
  const specs = paramSpecs(config);
  const params: Record<string, HostTensor> = {};
  for (const s of specs) {
    const t = tensors[s.name];
    if (!t) {
      problems.push(`missing tensor ${s.name} [${s.shape}]`);
    } else if (t.shape.join(',') !== s.shape.join(',')) {
      problems.push(`tensor ${s.name} has shape [${t.shape}] but ${expected && opts.configSource ? source : 'the model'} needs [${s.shape}]`);
    } else {
      params[s.name] = t;
    }
  }
  const known = new Set(specs.map((s) => s.name));
  const extra = Object.keys(tensors).filter((n) => !known.has(n));
  if (extra.length) problems.push(`unexpected tensors ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
  // Say what each side claims: e.g. run.json's config against the checkpoint's own.
  const differ = expected && own ? configDifferences(expected, own) : [];
  const sides = differ.length ? ` (${source} vs the checkpoint's own config: ${differ.slice(0, 4).join(', ')}${differ.length > 4 ? ', …' : ''})` : '';
  if (problems.length) throw new CheckpointError(file, `does not fit ${source}${sides}: ${problems.slice(0, 6).join('; ')}`);
  // With a named source (a run's run.json) the two configs must agree even where shapes do not show it.
  if (opts.configSource && differ.length) throw new CheckpointError(file, `contradicts ${source}${sides}`);
  for (const s of specs) {
    const at = firstNonFinite(params[s.name].data);
    if (at >= 0) {
      const bad = params[s.name].data.filter((x) => !Number.isFinite(x)).length;
      throw new CheckpointError(file, `tensor ${s.name} holds ${bad} non-finite value${bad === 1 ? '' : 's'} (${params[s.name].data[at]} at index ${at}); the weights are corrupt, refusing to load them`);
    }
  }
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
