import fs from 'node:fs';
import path from 'node:path';
import type { JobEvent } from '../../shared/progress';
import { ApiArgumentError } from '../../shared/errors';
import { hookStream } from './hookActivations';
import { readTextPrompts, taskEvalBatches, taskPromptSource, textEvalBatches, textPromptSource, type PromptBatch, type PromptSource } from './promptSource';
import { hookLayer, type Sae, type SaeArchitecture } from './saeConfig';
import { evaluateSae, type SaeEvalMetrics } from './saeEval';
import { isSaeFolder, writeSae, writeSaeMetrics } from './saeFormat';
import { checkSaeHook, openSubject, type SaeSubject } from './saeSubject';
import { DEFAULT_SAE_TRAIN, trainSae, type SaeProgress, type SaeTrainOptions } from './trainSae';

/**
 * One SAE job, as the worker (kind 'sae') and `oocr sae train` run it: open the run or model, stream the
 * hook's activations over the task's prompts or a dataset, train, save in the SAELens layout with the
 * training metrics beside, and evaluate on held-out prompts (with the reconstruction spliced in).
 */
/** The training hyperparameters are SaeTrainOptions' own; the job adds what to read and where to write. */
export interface SaeJobOptions extends Pick<SaeTrainOptions, 'architecture' | 'expansion' | 'k' | 'l1' | 'lr' | 'warmupSteps' | 'l1WarmupSteps' | 'batchSize' | 'seed'> {
  /** A run folder or a Hugging Face model folder. */
  target: string;
  adapter?: string;
  hook: string;
  /** A JSONL/text dataset; default: the run's task prompts. */
  data?: string;
  /** Activations to train on (steps = ⌈tokens / batchSize⌉). */
  tokens: number;
  outDir: string;
  /** Prompts per eval set (task) or texts (dataset) for the final metrics. */
  evalSamples: number;
  /** Activations held in the shuffle buffer. */
  bufferRows?: number;
  logEvery?: number;
  /** Extra fields for training_summary.json (the workbench records the subject's workspace id). */
  summaryExtra?: Record<string, unknown>;
}

export interface SaeJobResult {
  status: 'completed' | 'cancelled';
  saeDir: string;
  steps: number;
  seconds: number;
  /** Activations per second over the whole training (reading the model included). */
  activationsPerSecond: number;
  metrics: Omit<SaeEvalMetrics, 'density'>;
}

export const DEFAULT_SAE_JOB = {
  architecture: 'topk' as SaeArchitecture,
  expansion: 8,
  k: 8,
  l1: 2.5,
  lr: 4e-3,
  warmupSteps: 100,
  l1WarmupSteps: 200,
  tokens: 500_000,
  batchSize: 512,
  seed: 0,
  evalSamples: 200,
};

interface Prompts {
  train: PromptSource;
  eval: PromptBatch[];
  describe: string;
}

/** The prompts an SAE of `subject` trains and evaluates on. */
export function saePrompts(subject: SaeSubject, o: Pick<SaeJobOptions, 'data' | 'seed' | 'evalSamples'>, promptsPerBatch = 64): Prompts {
  if (o.data) {
    const rows = readTextPrompts(o.data, subject);
    return { train: textPromptSource(rows, o.seed, Math.max(1, Math.min(promptsPerBatch, 16)), o.data), eval: textEvalBatches(rows, o.evalSamples), describe: o.data };
  }
  if (!subject.task) throw new ApiArgumentError(`${subject.id}: a model folder has no task prompts; give a dataset (--data FILE.jsonl)`);
  return { train: taskPromptSource(subject.task, o.seed, promptsPerBatch), eval: taskEvalBatches(subject.task, o.seed, o.evalSamples), describe: `task:${subject.task.name}` };
}

export function summaryMetrics(m: SaeEvalMetrics): Omit<SaeEvalMetrics, 'density'> {
  const { density: _density, ...rest } = m;
  return rest;
}

export async function runSaeJob(o: SaeJobOptions & { onEvent?: (e: JobEvent) => void; shouldCancel?: () => boolean }): Promise<SaeJobResult> {
  if (fs.existsSync(o.outDir) && (isSaeFolder(o.outDir) || fs.readdirSync(o.outDir).length > 0)) {
    throw new ApiArgumentError(`${o.outDir} exists and is not empty: give a new folder for the SAE`);
  }
  const subject = openSubject(o.target, { adapterDir: o.adapter });
  try {
    const hook = checkSaeHook(subject.config, o.hook);
    const prompts = saePrompts(subject, o);
    const stream = hookStream(subject, prompts.train, hook, o.seed, o.bufferRows ?? Math.max(4 * o.batchSize, 4096));
    const steps = Math.max(1, Math.ceil(o.tokens / o.batchSize));
    const lines: SaeProgress[] = [];
    o.onEvent?.({ kind: 'log', message: `SAE on ${hook} of ${subject.id} (d_in ${stream.dIn}, d_sae ${stream.dIn * o.expansion}, ${o.architecture}), ${steps} steps over ${prompts.describe}` });
    const started = performance.now();
    const trained = trainSae(stream, {
      ...DEFAULT_SAE_TRAIN,
      architecture: o.architecture,
      dIn: stream.dIn,
      expansion: o.expansion,
      k: o.k,
      l1: o.l1,
      lr: o.lr,
      warmupSteps: o.warmupSteps,
      l1WarmupSteps: o.l1WarmupSteps,
      steps,
      batchSize: o.batchSize,
      seed: o.seed,
      logEvery: o.logEvery ?? Math.max(1, Math.min(50, Math.floor(steps / 20))),
      shouldCancel: o.shouldCancel,
      onProgress: (p) => {
        lines.push(p);
        const elapsed = (performance.now() - started) / 1000;
        const rate = p.step / Math.max(elapsed, 1e-9);
        o.onEvent?.({
          kind: 'progress',
          step: p.step,
          totalSteps: p.totalSteps,
          loss: p.loss,
          metrics: { l0: p.l0, fve: p.fve, mse: p.mse, dead: p.dead },
          stepsPerSecond: rate,
          etaSeconds: (p.totalSteps - p.step) / Math.max(rate, 1e-9),
        });
      },
    });
    const sae: Sae = {
      cfg: {
        architecture: o.architecture,
        d_in: stream.dIn,
        d_sae: stream.dIn * o.expansion,
        ...(o.architecture === 'topk' ? { k: o.k } : {}),
        hook_name: hook,
        hook_layer: hookLayer(hook),
        model_name: subject.modelName,
        dtype: 'float32',
        device: 'cpu',
        apply_b_dec_to_input: true,
        normalize_activations: 'none',
        context_size: subject.config.nCtx,
        prepend_bos: false,
        dataset_path: prompts.describe,
      },
      weights: trained.weights,
    };
    writeSae(o.outDir, sae);
    const metrics = summaryMetrics(evaluateSae(subject, sae, prompts.eval));
    const seconds = (performance.now() - started) / 1000;
    const activationsPerSecond = (trained.steps * o.batchSize) / Math.max(trained.seconds, 1e-9);
    writeSaeMetrics(o.outDir, lines as unknown as Record<string, unknown>[], {
      format: 'oocr-sae-training/1',
      ...o.summaryExtra,
      status: trained.status,
      target: path.resolve(o.target),
      ...(o.adapter ? { adapter: path.resolve(o.adapter) } : {}),
      hook,
      data: prompts.describe,
      options: { architecture: o.architecture, expansion: o.expansion, k: o.k, l1: o.l1, lr: o.lr, warmupSteps: o.warmupSteps, l1WarmupSteps: o.l1WarmupSteps, tokens: o.tokens, batchSize: o.batchSize, seed: o.seed, evalSamples: o.evalSamples },
      steps: trained.steps,
      seconds,
      activationScale: trained.scale,
      resampledFeatures: trained.resampled,
      activationsPerSecond,
      eval: metrics,
    });
    return { status: trained.status, saeDir: o.outDir, steps: trained.steps, seconds, activationsPerSecond, metrics };
  } finally {
    subject.release();
  }
}
