import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { BackendInfo } from '../../shared/backend';
import { TrainConfigSchema, type Metrics, type RunManifest, type TrainConfig } from '../../shared/modelConfig';
import type { JobEvent } from '../../shared/progress';
import { appendMetrics, checkpointPath, RUN_FILE, writeManifest } from '../io/runStore';
import { saveCheckpoint } from '../model/checkpoint';
import { toHost, toLiveModel } from '../model/liveModel';
import { initParams } from '../model/params';
import { resolveConfig } from '../model/resolveConfig';
import { createTask } from '../tasks/registry';
import { Rng } from '../util/rng';
import { AdamW } from './adamw';
import { batchTensors, evaluateSets, lastTokenLoss } from './evaluate';

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
}

export interface TrainResult {
  runDir: string;
  status: 'completed' | 'cancelled';
  steps: number;
  seconds: number;
  finalMetrics: Metrics;
}

export class TrainingError extends Error {
  constructor(
    message: string,
    readonly runDir: string,
    readonly lastGoodCheckpoint: string | null,
  ) {
    super(message);
  }
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
 * Trains one run into `outDir`: run.json, metrics.jsonl and checkpoints as DESIGN.md §6. Cancelling
 * saves the current weights; a non-finite loss stops the run and leaves the last good checkpoint.
 */
export async function trainRun(opts: TrainRunOptions): Promise<TrainResult> {
  const config = checkTrainConfig(opts.config);
  const runDir = path.resolve(opts.outDir);
  if (fs.existsSync(path.join(runDir, RUN_FILE))) {
    throw new Error(`${runDir} already holds a run (run.json exists); choose another --out`);
  }
  fs.mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true });
  const task = createTask(config.task, config.taskOptions);
  const now = new Date().toISOString();
  const manifest: RunManifest = {
    format: 'oocr-run/1',
    id: path.basename(runDir),
    preset: opts.preset,
    createdAt: now,
    updatedAt: now,
    status: 'running',
    config,
    backend: opts.backend.name,
    versions: { tfjs: tf.version.tfjs, node: process.versions.node, ...(opts.versions ?? {}) },
    step: 0,
    seconds: 0,
    checkpoints: [],
  };
  writeManifest(runDir, manifest);
  const emit = opts.onEvent ?? (() => {});
  const update = (patch: Partial<RunManifest>): void => {
    Object.assign(manifest, patch, { updatedAt: new Date().toISOString() });
    writeManifest(runDir, manifest);
  };

  const model = toLiveModel(config.model, initParams(config.model, config.seed));
  const optimizer = new AdamW(model.trainable, config.optimizer);
  const root = new Rng(config.seed);
  const dataRng = root.fork(1);
  // Fixed held-out sequences for the curves, so points along a run are comparable.
  const evalSets = task.evalSets(root.fork(2), config.evalSamples);
  const t0 = performance.now();
  const seconds = (): number => (performance.now() - t0) / 1000;
  let lastGood: string | null = null;
  let lastEmit = 0;

  const saveAt = (step: number): void => {
    const file = checkpointPath(runDir, step);
    saveCheckpoint(file, config.model, toHost(model), { step, task: config.task, taskOptions: config.taskOptions });
    lastGood = file;
    manifest.checkpoints = [...manifest.checkpoints.filter((c) => c.step !== step), { step, file: path.relative(runDir, file) }];
    emit({ kind: 'checkpoint', step, file });
  };

  try {
    let step = 0;
    let status: TrainResult['status'] = 'completed';
    while (step < config.steps) {
      if (opts.shouldCancel?.()) {
        status = 'cancelled';
        break;
      }
      const batch = task.sampleTrainBatch(dataRng, config.batchSize);
      const loss = tf.tidy(() => {
        const { tokens, targets } = batchTensors(batch);
        const { value, grads } = tf.variableGrads(() => lastTokenLoss(config.model, model.params, tokens, targets), model.trainable);
        const lossValue = value.dataSync()[0];
        // Only step on a finite loss: the weights stay those of the last good step.
        if (Number.isFinite(lossValue)) optimizer.apply(model.trainable.map((v) => grads[v.name]));
        return lossValue;
      });
      if (!Number.isFinite(loss)) {
        const where = lastGood ? `the last good checkpoint is ${path.relative(runDir, lastGood)}` : 'no checkpoint had been saved yet';
        throw new TrainingError(`loss became ${loss} at step ${step + 1}; training stopped and ${where}`, runDir, lastGood);
      }
      step += 1;
      const isLast = step === config.steps;
      let metrics: Metrics | undefined;
      if (step % config.logEvery === 0 || isLast || step === 1) {
        metrics = evaluateSets(config.model, model.params, evalSets);
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
    saveAt(step);
    // Final numbers on sequences never used before, larger than the per-log sample.
    const finalMetrics = evaluateSets(config.model, model.params, task.evalSets(root.fork(3), opts.finalEvalSamples ?? 4 * config.evalSamples));
    update({ status, step, seconds: seconds(), finalMetrics });
    return { runDir, status, steps: step, seconds: seconds(), finalMetrics };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    update({ status: 'failed', error: message, seconds: seconds() });
    if (err instanceof TrainingError) throw err;
    throw new TrainingError(message, runDir, lastGood);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
