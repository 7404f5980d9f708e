import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/backend';
import { TrainConfigSchema, type Metrics, type TrainConfig } from '../../shared/modelConfig';
import type { JobEvent } from '../../shared/progress';
import { checkpointPath } from '../io/runStore';
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint';
import { toHost, toLiveModel } from '../model/liveModel';
import { initParams } from '../model/params';
import { resolveConfig } from '../model/resolveConfig';
import { createTask } from '../tasks/registry';
import { FusedKernel } from '../fused/fusedKernel';
import { FUSED_BACKEND, fusedMetrics, fusedRefusal, fusedStepper } from '../fused/fusedTrainer';
import { evaluateSetsAsync } from './evaluate';
import { namedHostCopies } from './hostCopy';
import { runTrainingLoop } from './trainingLoop';

export interface TrainRunOptions {
  config: TrainConfig;
  preset: string | null;
  outDir: string;
  backend: BackendInfo;
  versions?: Record<string, string>;
  onEvent?: (e: JobEvent) => void;
  /** Polled between steps. */
  shouldCancel?: () => boolean;
  /** Fresh sequences per split for the final metrics (default: 4× evalSamples). */
  finalEvalSamples?: number;
  /**
   * Continue the run in `outDir` (cancelled, failed, or interrupted) from its latest checkpoint to
   * `config.steps`, bit for bit as an uninterrupted run; `config` must be run.json's (the preset stays
   * run.json's too). A completed run, or one whose job is alive, is refused.
   */
  resume?: boolean;
  /**
   * The fused wasm kernel (src/core/fused) for the models it covers (the factorization presets), run.json
   * then naming the backend 'wasm-fused'. Default: whenever it fits; false: the tfjs path always.
   */
  fused?: boolean;
}

/** A training run as plain data (what a job request carries); the backend and callbacks come from where it runs. */
export type TrainOptions = Omit<TrainRunOptions, 'backend' | 'onEvent' | 'shouldCancel'>;

export interface TrainResult {
  runDir: string;
  status: 'completed' | 'cancelled';
  steps: number;
  seconds: number;
  finalMetrics: Metrics;
}

/** Validates a train config completely (schema, model combinations, task options, fit of task and model). */
export function checkTrainConfig(raw: unknown): TrainConfig {
  const parsed = TrainConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid train config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const config = { ...parsed.data, model: resolveConfig(parsed.data.model) };
  const task = createTask(config.task, config.taskOptions);
  if (task.vocab.length !== config.model.dVocab) {
    throw new Error(`invalid train config: task '${config.task}' has ${task.vocab.length} tokens but model.dVocab is ${config.model.dVocab}`);
  }
  if (task.seqLen > config.model.nCtx) {
    throw new Error(`invalid train config: task sequences have ${task.seqLen} tokens but model.nCtx is ${config.model.nCtx}`);
  }
  return config;
}

/**
 * Trains one run into `outDir`: run.json, metrics.jsonl and checkpoints as DESIGN.md §6, through the
 * shared training loop (./trainingLoop.ts). Cancelling saves the current weights; a non-finite loss
 * stops the run with a JobError naming the last good checkpoint. Every tensor read on the tfjs path is
 * asynchronous, so it trains on any backend, webgpu included (a training job's worker may start that).
 */
export async function trainRun(opts: TrainRunOptions): Promise<TrainResult> {
  const config = checkTrainConfig(opts.config);
  const task = createTask(config.task, config.taskOptions);
  const useFused = fusedRefusal(config, opts.backend.name, opts.fused) === null;
  let kernel: FusedKernel | null = null;
  const r = await runTrainingLoop({
    outDir: opts.outDir,
    config,
    preset: opts.preset,
    backend: useFused ? FUSED_BACKEND : opts.backend.name,
    versions: opts.versions,
    noun: 'training',
    resume: opts.resume,
    build: () => {
      const model = toLiveModel(config.model, initParams(config.model, config.seed));
      return {
        variables: model.trainable,
        params: () => model.params,
        interventions: () => [],
        export: () => toHost(model),
        /** export() read asynchronously, as saves read it (any backend, webgpu included). */
        read: () => namedHostCopies(model.params),
        dispose: () => model.dispose(),
        /** The trained tensors as a checkpoint holds them (frozen ones follow from the config and seed). */
        load: (params: Record<string, { shape: number[]; data: Float32Array }>) =>
          model.trainable.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(params[model.trainableNames[i]].data, v.shape, 'float32')))),
      };
    },
    restore: (t, runDir, step) => t.load(loadCheckpoint(checkpointPath(runDir, step), config.model).params),
    sampleTrainBatch: (rng, n) => task.sampleTrainBatch(rng, n),
    curve: (root) => {
      const sets = task.evalSets(root.fork(2), config.evalSamples);
      return (t) => (kernel ? fusedMetrics(kernel, sets) : evaluateSetsAsync(config.model, t.params(), sets));
    },
    save: async (t, runDir, step) => {
      const file = checkpointPath(runDir, step);
      saveCheckpoint(file, config.model, await t.read(), { step, task: config.task, taskOptions: config.taskOptions });
      return { file, checkpoint: true };
    },
    finish: async (t, root) => {
      const sets = task.evalSets(root.fork(3), opts.finalEvalSamples ?? 4 * config.evalSamples);
      return { finalMetrics: kernel ? fusedMetrics(kernel, sets) : await evaluateSetsAsync(config.model, t.params(), sets) };
    },
    fused: useFused
      ? (t, adam) => {
          kernel = new FusedKernel(config.model, config.optimizer, task.seqLen);
          return fusedStepper(kernel, t.variables, adam);
        }
      : undefined,
    onEvent: opts.onEvent,
    shouldCancel: opts.shouldCancel,
  });
  return { runDir: r.runDir, status: r.status, steps: r.steps, seconds: r.seconds, finalMetrics: r.finalMetrics };
}
