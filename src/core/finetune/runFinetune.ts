import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import type { BackendInfo } from '../../shared/backend';
import { LoraSpecSchema, SteerSpecSchema, type FinetuneInfo, type FinetuneMethod, type LoraSpec, type SteerSpec } from '../../shared/finetune';
import type { Metrics, ModelConfig, RunManifest, TrainConfig } from '../../shared/modelConfig';
import type { JobEvent } from '../../shared/progress';
import { parseWithIssues } from '../../shared/zodIssues';
import { checkpointPath, readManifest, resolveCheckpoint } from '../io/runStore';
import { readSafetensorsFileSync, writeSafetensorsFileSync } from '../io/safetensors';
import { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '../model/checkpoint';
import type { Intervention, Params } from '../model/forward';
import { paramSpecs, type HostTensor } from '../model/params';
import type { EvalSet } from '../tasks/taskTypes';
import { createFinetuneTask, FinetuneTaskOptionsSchema, type FinetuneTask } from '../tasks/worldFinetune';
import { evaluateSets } from '../train/evaluate';
import { runTrainingLoop, type Trainee, type TrainingLoopResult } from '../train/trainingLoop';
import { Rng } from '../util/rng';
import { applyLora, checkLoraSpec, initLora } from './lora';
import { variableFrom } from './moduleLora';
import { initialSteeringVector, steeringIntervention, steerHook } from './steering';

export interface FinetuneRequest {
  /** Base run folder or checkpoint file (a `world` model). */
  base: string;
  /** Fine-tune task options (kind, codename, latentCity); the world comes from the base run. */
  task: Record<string, unknown>;
  method: FinetuneMethod;
  lora?: LoraSpec;
  steer?: SteerSpec;
  steps: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  seed: number;
  logEvery: number;
  evalSamples: number;
  outDir: string;
  backend: BackendInfo;
  onEvent?: (e: JobEvent) => void;
  shouldCancel?: () => boolean;
}

/** A fine-tune as plain data (what a job request carries); the backend and callbacks come from where it runs. */
export type FinetuneOptions = Omit<FinetuneRequest, 'backend' | 'onEvent' | 'shouldCancel'>;

export interface FinetuneResult {
  runDir: string;
  status: 'completed' | 'cancelled';
  steps: number;
  seconds: number;
  metrics: Metrics;
  weightsFile: string;
}

/** A fine-tune's outcome from its training loop's. */
export function finetuneResult(r: TrainingLoopResult): FinetuneResult {
  return { runDir: r.runDir, status: r.status, steps: r.steps, seconds: r.seconds, metrics: r.finalMetrics, weightsFile: r.weightsFile };
}

export const DEFAULT_LORA: LoraSpec = { rank: 4, alpha: 8, targets: ['mlp.W_out'], layers: [0] };
export const DEFAULT_STEER: SteerSpec = { layer: 0, positions: 'all' };

/** A base model with its task context, ready for fine-tuning or analysis. */
export interface BaseModel {
  checkpoint: LoadedCheckpoint;
  worldOptions: Record<string, unknown>;
}

export function loadBase(base: string): BaseModel {
  const ck = resolveCheckpoint(base);
  const loaded = loadCheckpoint(ck.file);
  const manifest = ck.runDir ? readManifest(ck.runDir) : null;
  const task = manifest?.config.task ?? loaded.meta.task;
  if (task !== 'world') throw new Error(`${ck.file}: fine-tuning needs a model pretrained on the 'world' task, this one was trained on '${task ?? 'unknown'}'`);
  return { checkpoint: loaded, worldOptions: manifest?.config.taskOptions ?? loaded.meta.taskOptions ?? {} };
}

export function finetuneTaskFor(base: BaseModel, raw: Record<string, unknown>): FinetuneTask {
  const task = createFinetuneTask({ ...raw, world: base.worldOptions });
  if (task.vocab.length !== base.checkpoint.config.dVocab) {
    throw new Error(`fine-tune task has ${task.vocab.length} tokens but the base model has d_vocab ${base.checkpoint.config.dVocab}`);
  }
  return task;
}

/** Everything that differs between methods: what is trained, and how it enters the forward pass. */
export interface Adaptation extends Trainee {
  method: FinetuneMethod;
}

export function buildAdaptation(
  config: ModelConfig,
  base: Record<string, HostTensor>,
  method: FinetuneMethod,
  opts: { lora?: LoraSpec; steer?: SteerSpec; seed: number; trained?: Record<string, HostTensor> },
): Adaptation {
  const frozen: Params = {};
  const specs = paramSpecs(config);
  const variables: tf.Variable[] = [];
  const named: Record<string, tf.Tensor> = {};
  const asVar = (name: string, h: HostTensor): tf.Variable => {
    const v = variableFrom(h.data, h.shape, `${name}#ft${tf.util.now()}`);
    variables.push(v);
    named[name] = v;
    return v;
  };
  if (method === 'full') {
    for (const s of specs) {
      const h = opts.trained?.[s.name] ?? base[s.name];
      if (s.trainable) asVar(s.name, h);
      else frozen[s.name] = named[s.name] = tf.tensor(h.data, h.shape);
    }
    const params = { ...frozen, ...named } as Params;
    return {
      method,
      variables,
      params: () => params,
      interventions: () => [],
      export: () => Object.fromEntries(Object.entries(params).map(([k, t]) => [k, { shape: t.shape.slice(), data: t.dataSync() as Float32Array }])),
      dispose: () => Object.values(params).forEach((t) => t.dispose()),
    };
  }
  for (const s of specs) frozen[s.name] = tf.tensor(base[s.name].data, base[s.name].shape);
  const disposeAll = (): void => {
    Object.values(frozen).forEach((t) => t.dispose());
    variables.forEach((v) => v.dispose());
  };
  const exportNamed = (): Record<string, HostTensor> =>
    Object.fromEntries(Object.entries(named).map(([k, t]) => [k, { shape: t.shape.slice(), data: t.dataSync() as Float32Array }]));
  if (method === 'lora') {
    const spec = opts.lora ?? DEFAULT_LORA;
    checkLoraSpec(config, spec);
    const init = opts.trained ?? initLora(config, base, spec, opts.seed);
    for (const [name, h] of Object.entries(init)) asVar(name, h);
    return { method, variables, params: () => applyLora(frozen, named, spec), interventions: () => [], export: exportNamed, dispose: disposeAll };
  }
  const spec = opts.steer ?? DEFAULT_STEER;
  steerHook(config, spec);
  const v = asVar('steering_vector', opts.trained?.steering_vector ?? { shape: [config.dModel], data: initialSteeringVector(config.dModel, opts.seed) });
  return { method, variables, params: () => frozen, interventions: () => [steeringIntervention(config, spec, v)], export: exportNamed, dispose: disposeAll };
}

/** Held-out and side-effect accuracies (and their means) of a model or adapted model. */
export function finetuneMetrics(task: FinetuneTask, config: ModelConfig, params: Params, interventions: readonly Intervention[], rng: Rng, samples: number): Metrics {
  return metricsOnSets(task.heldOutSets(rng, samples), task.sideEffectSets(rng, samples), config, params, interventions);
}

function metricsOnSets(heldSets: EvalSet[], sideSets: EvalSet[], config: ModelConfig, params: Params, interventions: readonly Intervention[]): Metrics {
  const held = evaluateSets(config, params, heldSets, 1024, interventions);
  const side = evaluateSets(config, params, sideSets, 1024, interventions);
  const mean = (m: Metrics): number => {
    const accs = Object.entries(m).filter(([k]) => k.endsWith('_acc'));
    return accs.reduce((s, [, v]) => s + v, 0) / accs.length;
  };
  return { ...held, ...side, heldout_acc: mean(held), side_effect_acc: mean(side) };
}

export const WEIGHTS_FILE: Record<FinetuneMethod, string> = { full: 'checkpoints', lora: 'adapter.safetensors', steer: 'steering.safetensors' };

/** Fine-tunes a base world model with one method into a run folder; the base is never modified. */
export async function runFinetune(req: FinetuneRequest): Promise<FinetuneResult> {
  const base = loadBase(req.base);
  const taskOptions = parseWithIssues(FinetuneTaskOptionsSchema, { ...req.task, world: base.worldOptions }, 'fine-tuning task options');
  const task = finetuneTaskFor(base, taskOptions);
  const lora = req.method === 'lora' ? parseWithIssues(LoraSpecSchema, req.lora ?? DEFAULT_LORA, 'LoRA spec') : undefined;
  const steer = req.method === 'steer' ? parseWithIssues(SteerSpecSchema, req.steer ?? DEFAULT_STEER, 'steering spec') : undefined;
  const config = base.checkpoint.config;
  const trainConfig: TrainConfig = {
    task: `world-${taskOptions.kind}`,
    taskOptions: taskOptions as unknown as Record<string, unknown>,
    model: config,
    optimizer: { name: 'adamw', lr: req.lr, weightDecay: req.weightDecay, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    steps: req.steps,
    batchSize: req.batchSize,
    seed: req.seed,
    logEvery: req.logEvery,
    checkpointEvery: 0,
    evalSamples: req.evalSamples,
  };
  // Relative to the run folder, so a workspace can be moved or shipped together with its base model.
  const finetune: FinetuneInfo = { base: path.relative(path.resolve(req.outDir), path.resolve(base.checkpoint.file)), method: req.method, lora, steer };
  const r = await runTrainingLoop({
    outDir: req.outDir,
    config: trainConfig,
    preset: null,
    backend: req.backend.name,
    finetune,
    noun: 'fine-tuning',
    alsoPreserved: `the base model ${path.resolve(base.checkpoint.file)} is unchanged`,
    build: () => buildAdaptation(config, base.checkpoint.params, req.method, { lora, steer, seed: req.seed }),
    sampleTrainBatch: (rng, n) => task.sampleTrainBatch(rng, n),
    curve: (root) => {
      // Fixed evaluation questions, so points along the curve are comparable.
      const held = task.heldOutSets(root.fork(2), req.evalSamples);
      const side = task.sideEffectSets(root.fork(4), req.evalSamples);
      return (a) => tf.tidy(() => metricsOnSets(held, side, config, a.params(), a.interventions()));
    },
    save: (a, runDir, step) => {
      const file = saveAdaptation(runDir, config, a, { step, lora, steer, task: trainConfig });
      return { file, checkpoint: req.method === 'full' };
    },
    finish: (a, root, saved) => ({
      finalMetrics: tf.tidy(() => finetuneMetrics(task, config, a.params(), a.interventions(), root.fork(3), 4 * req.evalSamples)),
      manifest: { finetune: { ...finetune, weights: path.relative(path.resolve(req.outDir), saved.file) } },
    }),
    onEvent: req.onEvent,
    shouldCancel: req.shouldCancel,
  });
  return finetuneResult(r);
}

function saveAdaptation(
  runDir: string,
  config: ModelConfig,
  a: Adaptation,
  meta: { step: number; lora?: LoraSpec; steer?: SteerSpec; task: TrainConfig },
): string {
  const tensors = a.export();
  if (a.method === 'full') {
    const file = checkpointPath(runDir, meta.step);
    saveCheckpoint(file, config, tensors, { step: meta.step, task: meta.task.task, taskOptions: meta.task.taskOptions });
    return file;
  }
  const file = path.join(runDir, WEIGHTS_FILE[a.method]);
  writeSafetensorsFileSync(file, tensors, {
    format: `oocr-${a.method}/1`,
    step: String(meta.step),
    ...(meta.lora ? { lora: JSON.stringify(meta.lora) } : {}),
    ...(meta.steer ? { steer: JSON.stringify(meta.steer) } : {}),
  });
  return file;
}

/** A fine-tuned run, reloaded: base weights plus its adapter / vector / full weights. */
export function loadFinetuned(runDir: string): { manifest: RunManifest; base: BaseModel; trained: Record<string, HostTensor> } {
  const manifest = readManifest(runDir);
  if (!manifest.finetune?.weights) throw new Error(`${runDir}: not a completed fine-tune run (no finetune.weights in run.json)`);
  const base = loadBase(path.resolve(runDir, manifest.finetune.base));
  const file = path.join(runDir, manifest.finetune.weights);
  const trained = manifest.finetune.method === 'full' ? loadCheckpoint(file, base.checkpoint.config).params : readSafetensorsFileSync(file).tensors;
  return { manifest, base, trained };
}
