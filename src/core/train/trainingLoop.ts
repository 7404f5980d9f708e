import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { FinetuneInfo } from '../../shared/finetune';
import type { Metrics, RunManifest, TrainConfig } from '../../shared/modelConfig';
import type { JobEvent } from '../../shared/progress';
import { appendMetrics, RUN_FILE, writeManifest } from '../io/runStore';
import { JobError } from '../jobs/jobError';
import type { Intervention, Params } from '../model/forward';
import type { HostTensor } from '../model/params';
import type { TokenBatch } from '../tasks/taskTypes';
import { Rng } from '../util/rng';
import { AdamW } from './adamw';
import { batchTensors, lastTokenLoss } from './evaluate';

/** What a run trains: the variables the optimizer steps, and how they enter the forward pass. */
export interface Trainee {
  variables: tf.Variable[];
  params(): Params;
  interventions(): Intervention[];
  /** Host copies of the trained tensors, as saved. */
  export(): Record<string, HostTensor>;
  dispose(): void;
}

/** Weights written by a run: a model checkpoint (listed in run.json's `checkpoints`) or another file. */
export interface SavedWeights {
  file: string;
  checkpoint: boolean;
}

export interface TrainingLoopSpec<T extends Trainee = Trainee, B = TokenBatch> {
  /** The run folder to create; it must not hold a run yet. */
  outDir: string;
  /** Steps, batch size, optimizer, seed, log and checkpoint cadence; stored as run.json's `config`. */
  config: TrainConfig;
  preset: string | null;
  backend: string;
  /** Added to the tfjs and Node versions in run.json. */
  versions?: Record<string, string>;
  finetune?: FinetuneInfo;
  /** Names the job in messages: 'training', 'fine-tuning'. */
  noun: string;
  /** Said after the last good checkpoint when a run fails (e.g. that a base model is unchanged). */
  alsoPreserved?: string;
  /** Builds what is trained; called once the folder is known to be free, before anything is written. */
  build(): T;
  sampleTrainBatch(rng: Rng, batchSize: number): B;
  /** The mean loss of a batch. Default: cross-entropy at the last position of a TokenBatch. */
  loss?(t: T, batch: B): tf.Scalar;
  /**
   * Splits a batch into micro-batches whose gradients are accumulated (weights: each part's share of
   * the batch's loss), so a big model's activations are held for one part at a time. Default: one part.
   */
  microBatches?(batch: B): { batch: B; weight: number }[];
  /**
   * Draws the fixed held-out sequences of the logged curve from the run's root stream (after the data
   * stream, fork 1) and returns the evaluation run at each log step.
   */
  curve(root: Rng): (t: T) => Metrics;
  /** Writes the weights at `step` (periodic checkpoints and the final save). */
  save(t: T, runDir: string, step: number): SavedWeights;
  /** Final numbers after the last save (fresh sequences from `root`), and any run.json fields to add. */
  finish(t: T, root: Rng, saved: SavedWeights): { finalMetrics: Metrics; manifest?: Partial<RunManifest> };
  onEvent?: (e: JobEvent) => void;
  /** Polled between steps; true stops the run after the current step, saving its weights. */
  shouldCancel?: () => boolean;
}

export interface TrainingLoopResult {
  runDir: string;
  status: 'completed' | 'cancelled';
  steps: number;
  seconds: number;
  finalMetrics: Metrics;
  weightsFile: string;
}

/**
 * The loop every training job runs: run.json and metrics.jsonl as DESIGN.md §6, AdamW on the
 * trainee's variables, a curve on fixed sequences, periodic checkpoints, progress events. Cancelling
 * saves the current weights and ends 'cancelled'; a non-finite loss stops the run before its step is
 * applied. Once the run has started, a failure marks run.json 'failed' and rejects with a JobError that
 * names the last good checkpoint (and whatever else is preserved).
 */
export async function runTrainingLoop<T extends Trainee, B = TokenBatch>(spec: TrainingLoopSpec<T, B>): Promise<TrainingLoopResult> {
  const { config } = spec;
  const runDir = path.resolve(spec.outDir);
  if (fs.existsSync(path.join(runDir, RUN_FILE))) {
    throw new Error(`${runDir} already holds a run (run.json exists); choose another --out`);
  }
  const lossOf =
    spec.loss ??
    ((t: T, b: B): tf.Scalar => {
      const { tokens, targets } = batchTensors(b as unknown as TokenBatch);
      return lastTokenLoss(config.model, t.params(), tokens, targets, t.interventions());
    });
  const trainee = spec.build();
  const optimizer = new AdamW(trainee.variables, config.optimizer);
  try {
    fs.mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true });
    const now = new Date().toISOString();
    const manifest: RunManifest = {
      format: 'oocr-run/1',
      id: path.basename(runDir),
      preset: spec.preset,
      createdAt: now,
      updatedAt: now,
      status: 'running',
      config,
      backend: spec.backend,
      versions: { tfjs: tf.version.tfjs, node: process.versions.node, ...(spec.versions ?? {}) },
      step: 0,
      seconds: 0,
      checkpoints: [],
      ...(spec.finetune ? { finetune: spec.finetune } : {}),
    };
    writeManifest(runDir, manifest);
    const emit = spec.onEvent ?? (() => {});
    const update = (patch: Partial<RunManifest>): void => {
      Object.assign(manifest, patch, { updatedAt: new Date().toISOString() });
      writeManifest(runDir, manifest);
    };

    const root = new Rng(config.seed);
    const dataRng = root.fork(1);
    // Fixed held-out sequences for the curve, so points along a run are comparable.
    const evaluate = spec.curve(root);
    const t0 = performance.now();
    const seconds = (): number => (performance.now() - t0) / 1000;
    let lastGood: string | null = null;
    let lastEmit = 0;

    const saveAt = (step: number): SavedWeights => {
      const saved = spec.save(trainee, runDir, step);
      if (saved.checkpoint) {
        lastGood = saved.file;
        manifest.checkpoints = [...manifest.checkpoints.filter((c) => c.step !== step), { step, file: path.relative(runDir, saved.file) }];
        emit({ kind: 'checkpoint', step, file: saved.file });
      }
      return saved;
    };
    const preserved = (): string => {
      const where = lastGood ? `the last good checkpoint is ${path.relative(runDir, lastGood)}` : 'no checkpoint had been saved yet';
      return spec.alsoPreserved ? `${where}; ${spec.alsoPreserved}` : where;
    };

    try {
      let step = 0;
      let status: TrainingLoopResult['status'] = 'completed';
      while (step < config.steps) {
        if (spec.shouldCancel?.()) {
          status = 'cancelled';
          break;
        }
        const batch = spec.sampleTrainBatch(dataRng, config.batchSize);
        const loss = tf.tidy(() => {
          const parts = spec.microBatches?.(batch) ?? [{ batch, weight: 1 }];
          let lossValue = 0;
          let summed: tf.Tensor[] | null = null;
          for (const part of parts) {
            const { value, grads } = tf.variableGrads(() => {
              const l = lossOf(trainee, part.batch);
              return parts.length === 1 ? l : l.mul(part.weight);
            }, trainee.variables);
            lossValue += value.dataSync()[0];
            const g = trainee.variables.map((v) => grads[v.name]);
            summed = summed ? summed.map((s, i) => s.add(g[i])) : g;
          }
          // Only step on a finite loss: the weights stay those of the last good step.
          if (Number.isFinite(lossValue) && summed) optimizer.apply(summed);
          return lossValue;
        });
        if (!Number.isFinite(loss)) {
          throw new JobError(`loss became ${loss} at step ${step + 1}; ${spec.noun} stopped and ${preserved()}`, { runDir, lastGoodCheckpoint: lastGood });
        }
        step += 1;
        const isLast = step === config.steps;
        let metrics: Metrics | undefined;
        if (step % config.logEvery === 0 || isLast || step === 1) {
          metrics = evaluate(trainee);
          appendMetrics(runDir, { step, time: seconds(), loss, metrics });
        }
        if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && !isLast) {
          saveAt(step);
          update({ step, seconds: seconds() });
        }
        const now = performance.now();
        if (metrics || now - lastEmit > 100 || isLast) {
          lastEmit = now;
          const rate = step / Math.max(seconds(), 1e-9);
          emit({ kind: 'progress', step, totalSteps: config.steps, loss, metrics, stepsPerSecond: rate, etaSeconds: (config.steps - step) / rate });
          // Let the event loop deliver messages (cancel, progress) between bursts of steps.
          await new Promise((r) => setImmediate(r));
        }
      }
      const saved = saveAt(step);
      // Final numbers on sequences never used before, larger than the per-log sample.
      const { finalMetrics, manifest: extra } = spec.finish(trainee, root, saved);
      update({ status, step, seconds: seconds(), finalMetrics, ...extra });
      return { runDir, status, steps: step, seconds: seconds(), finalMetrics, weightsFile: saved.file };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      update({ status: 'failed', error: message, seconds: seconds() });
      if (err instanceof JobError) throw err;
      throw new JobError(message, { runDir, lastGoodCheckpoint: lastGood });
    }
  } finally {
    optimizer.dispose();
    trainee.dispose();
  }
}
