import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { BackendInfo } from '../../shared/backend';
import { PeftLoraSpecSchema, SteerSpecSchema, type FinetuneInfo, type PeftLoraSpec, type SteerSpec } from '../../shared/finetune';
import type { Metrics, ModelConfig, TrainConfig } from '../../shared/modelConfig';
import type { JobEvent } from '../../shared/progress';
import { parseWithIssues } from '../../shared/zodIssues';
import { DATASET_FILES, readDataset, type TextDataset } from '../data/datasetFolder';
import { writeJsonlExamples } from '../data/jsonl';
import { loadHfLiveModel, readHfModelConfig, type HfModelConfig } from '../hf/loadHfModel';
import { writePeftAdapter } from '../hf/peftWriter';
import { loadTokenizer, type TextTokenizer } from '../hf/tokenizer';
import { readSafetensorsFileSync, writeSafetensorsFileSync } from '../io/safetensors';
import type { Params } from '../model/forward';
import type { LiveModel } from '../model/liveModel';
import { runTrainingLoop, type Trainee } from '../train/trainingLoop';
import { finetuneResult, type FinetuneResult } from './runFinetune';
import { createModuleLora, defaultTargetModules, variableFrom, type ModuleLora } from './moduleLora';
import { initialSteeringVector, steeringIntervention, steerHook } from './steering';
import { encodeExamples, labelCounts, sampleTextBatch, textBatch, type EncodedExample, type TextBatch } from './textBatches';
import { completionLoss, evaluateText, meanAccuracy, type TextAdaptation } from './textObjective';

/** A fine-tune of a Hugging Face model folder on a text dataset, as plain data (what a job carries). */
export interface TextFinetuneOptions {
  /** Hugging Face model folder (config.json, safetensors, tokenizer.json). */
  model: string;
  /** Dataset folder (train.jsonl [, eval.jsonl, side_effects.jsonl]) or one train .jsonl file. */
  data: string;
  eval?: string;
  sideEffects?: string;
  method: 'lora' | 'steer';
  /** LoRA: default PEFT's target modules for the model type, every layer, r 8, alpha 16. */
  peft?: Partial<PeftLoraSpec>;
  /** Steering: default the middle layer's resid_post, every position. */
  steer?: Partial<SteerSpec>;
  steps: number;
  batchSize: number;
  /** Sequences per forward/backward; gradients of the parts are summed (default: as many as autoMicroBatch allows). */
  microBatch?: number;
  lr: number;
  weightDecay: number;
  seed: number;
  logEvery: number;
  /** Examples per label on the logged curve (the final numbers use every example). */
  evalSamples: number;
  outDir: string;
}

export interface TextFinetuneRequest extends TextFinetuneOptions {
  backend: BackendInfo;
  onEvent?: (e: JobEvent) => void;
  shouldCancel?: () => boolean;
}

/** As a world model's fine-tune; weightsFile is the PEFT adapter folder or steering.safetensors. */
export type TextFinetuneResult = FinetuneResult;

export const ADAPTER_DIR = 'adapter';
export const STEERING_FILE = 'steering.safetensors';

/** A text dataset encoded for one model. */
export interface EncodedDataset {
  dataset: TextDataset;
  train: EncodedExample[];
  eval: EncodedExample[];
  sideEffects: EncodedExample[];
  evalLabels: string[];
  sideLabels: string[];
}

export function encodeDataset(tok: TextTokenizer, c: ModelConfig, dataset: TextDataset): EncodedDataset {
  const enc = (file: string | null, ex: TextDataset['train'], label: string): EncodedExample[] => encodeExamples(tok, ex, c.nCtx, file ?? dataset.dir, label);
  const f = dataset.files;
  const out = { dataset, train: enc(f.train, dataset.train, 'train'), eval: enc(f.eval, dataset.eval, 'eval'), sideEffects: enc(f.sideEffects, dataset.sideEffects, 'side_effect') };
  const labels = (rows: EncodedExample[]): string[] => [...new Set(rows.map((r) => r.label))].sort();
  for (const r of [...out.train, ...out.eval, ...out.sideEffects])
    for (const id of r.ids) if (id >= c.dVocab) throw new Error(`the tokenizer gives id ${id}, outside the model's vocabulary of ${c.dVocab}: tokenizer.json does not belong to this model`);
  return { ...out, evalLabels: labels(out.eval), sideLabels: labels(out.sideEffects) };
}

/** heldout_acc (mean over eval labels) and side_effect_acc beside the per-label numbers. */
export function withHeadlines(m: Metrics, d: Pick<EncodedDataset, 'evalLabels' | 'sideLabels'>): Metrics {
  const out = { ...m };
  if (d.evalLabels.length) out.heldout_acc = meanAccuracy(m, d.evalLabels);
  if (d.sideLabels.length) out.side_effect_acc = meanAccuracy(m, d.sideLabels);
  return out;
}

/** Examples behind each final accuracy: one count per label, and the pooled counts of the two headlines. */
export function evalCounts(d: Pick<EncodedDataset, 'eval' | 'sideEffects'>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { name, n } of labelCounts([...d.eval, ...d.sideEffects])) out[`${name}_acc`] = n;
  if (d.eval.length) out.heldout_acc = d.eval.length;
  if (d.sideEffects.length) out.side_effect_acc = d.sideEffects.length;
  return out;
}

/** Up to n examples per label, the first ones in file order (fixed, so curve points compare). */
export function perLabel(rows: readonly EncodedExample[], n: number): EncodedExample[] {
  const seen = new Map<string, number>();
  return rows.filter((r) => {
    const k = seen.get(r.label) ?? 0;
    seen.set(r.label, k + 1);
    return k < n;
  });
}

export function resolvePeftSpec(model: HfModelConfig, p: Partial<PeftLoraSpec> = {}): PeftLoraSpec {
  const r = p.r ?? 8;
  return parseWithIssues(PeftLoraSpecSchema, {
    r,
    alpha: p.alpha ?? 2 * r,
    targetModules: p.targetModules ?? defaultTargetModules(model.modelType),
    layers: p.layers ?? Array.from({ length: model.config.nLayers }, (_, l) => l),
  }, 'LoRA spec');
}

export function resolveSteerSpec(c: ModelConfig, s: Partial<SteerSpec> = {}): SteerSpec {
  const spec = parseWithIssues(SteerSpecSchema, { layer: s.layer ?? Math.floor(c.nLayers / 2), positions: s.positions ?? 'all', ...(s.hook ? { hook: s.hook } : {}) }, 'steering spec');
  steerHook(c, spec);
  return spec;
}

/** A frozen model plus what is trained on it, as the training loop and the evaluations take it. */
export interface TextTrainee extends Trainee {
  adaptation(): TextAdaptation;
  lora?: ModuleLora;
  vector?: tf.Variable;
}

export function buildTextTrainee(model: HfModelConfig, params: Params, method: 'lora' | 'steer', o: { peft?: PeftLoraSpec; steer?: SteerSpec; seed: number; vector?: Float32Array }): TextTrainee {
  const c = model.config;
  if (method === 'lora') {
    const lora = createModuleLora(model, o.peft as PeftLoraSpec, o.seed);
    return {
      lora,
      variables: lora.variables,
      params: () => params,
      interventions: () => [],
      adaptation: () => ({ params, adapter: lora.adapter() }),
      export: () => ({}),
      dispose: () => lora.dispose(),
    };
  }
  const spec = o.steer as SteerSpec;
  const vector = variableFrom(o.vector ?? initialSteeringVector(c.dModel, o.seed), [c.dModel], `steer${tf.util.now()}`);
  return {
    vector,
    variables: [vector],
    params: () => params,
    interventions: () => [],
    adaptation: () => ({ params, interventions: (mask) => [steeringIntervention(c, spec, vector, undefined, mask)] }),
    export: () => ({ steering_vector: { shape: [c.dModel], data: vector.dataSync() as Float32Array } }),
    dispose: () => vector.dispose(),
  };
}

/** Writes a steering vector with what it needs to be applied again (layer, hook, positions). */
export function saveSteeringVector(file: string, vector: Float32Array, spec: SteerSpec, c: ModelConfig, meta: Record<string, string>): void {
  writeSafetensorsFileSync(
    file,
    { steering_vector: { shape: [vector.length], data: vector } },
    { format: 'oocr-steer/1', layer: String(spec.layer), hook: steerHook(c, spec), positions: JSON.stringify(spec.positions), ...meta },
  );
}

export function readSteeringVector(file: string): { vector: Float32Array; hook: string; layer: number; positions: SteerSpec['positions'] } {
  const st = readSafetensorsFileSync(file);
  const v = st.tensors.steering_vector;
  if (!v || v.shape.length !== 1) throw new Error(`${file}: no steering_vector [d_model]`);
  const meta = st.metadata ?? {};
  return { vector: v.data, hook: meta.hook ?? '', layer: Number(meta.layer ?? NaN), positions: meta.positions ? (JSON.parse(meta.positions) as SteerSpec['positions']) : 'all' };
}

/**
 * Fine-tunes a frozen Hugging Face model on a text dataset with a LoRA (saved as a PEFT adapter folder
 * that `PeftModel.from_pretrained` loads) or one steering vector (steering.safetensors), into a run
 * folder with run.json, the curve and a copy of the data. The model folder is never written.
 */
export async function runTextFinetune(req: TextFinetuneRequest): Promise<TextFinetuneResult> {
  const outDir = path.resolve(req.outDir);
  const modelDir = path.resolve(req.model);
  const model = readHfModelConfig(modelDir);
  const c = model.config;
  const tok = loadTokenizer(modelDir);
  const data = encodeDataset(tok, c, readDataset(req.data, { eval: req.eval, sideEffects: req.sideEffects }));
  const peft = req.method === 'lora' ? resolvePeftSpec(model, req.peft) : undefined;
  const steer = req.method === 'steer' ? resolveSteerSpec(c, req.steer) : undefined;
  if (req.microBatch !== undefined && (!Number.isInteger(req.microBatch) || req.microBatch < 1)) throw new Error(`micro-batch must be a positive integer (got ${req.microBatch})`);
  const microBatch = req.microBatch ?? autoMicroBatch(c, Math.max(...data.train.map((r) => r.ids.length - 1)), req.batchSize);
  const rel = (p: string): string => path.relative(outDir, p).split(path.sep).join('/');
  const dataFiles = { train: `data/${DATASET_FILES.train}`, ...(data.eval.length ? { eval: `data/${DATASET_FILES.eval}` } : {}), ...(data.sideEffects.length ? { sideEffects: `data/${DATASET_FILES.sideEffects}` } : {}) };
  const trainConfig: TrainConfig = {
    task: 'text',
    taskOptions: { data: path.resolve(req.data), examples: { train: data.train.length, eval: data.eval.length, sideEffects: data.sideEffects.length }, microBatch },
    model: c,
    optimizer: { name: 'adamw', lr: req.lr, weightDecay: req.weightDecay, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    steps: req.steps,
    batchSize: req.batchSize,
    seed: req.seed,
    logEvery: req.logEvery,
    checkpointEvery: 0,
    evalSamples: req.evalSamples,
  };
  const finetune: FinetuneInfo = { base: rel(modelDir), baseKind: 'model', method: req.method, ...(peft ? { peft } : {}), ...(steer ? { steer } : {}), data: dataFiles };
  let live: LiveModel | null = null;
  const curveRows = [...perLabel(data.eval, req.evalSamples), ...perLabel(data.sideEffects, req.evalSamples)];
  try {
    const r = await runTrainingLoop<TextTrainee, TextBatch>({
      outDir,
      config: trainConfig,
      preset: null,
      backend: req.backend.name,
      finetune,
      noun: 'fine-tuning',
      alsoPreserved: `the model ${modelDir} is unchanged`,
      build: () => {
        live = loadHfLiveModel(modelDir).live;
        fs.mkdirSync(path.join(outDir, 'data'), { recursive: true });
        writeJsonlExamples(path.join(outDir, dataFiles.train), data.dataset.train);
        if (dataFiles.eval) writeJsonlExamples(path.join(outDir, dataFiles.eval), data.dataset.eval);
        if (dataFiles.sideEffects) writeJsonlExamples(path.join(outDir, dataFiles.sideEffects), data.dataset.sideEffects);
        return buildTextTrainee(model, live.params, req.method, { peft, steer, seed: req.seed });
      },
      sampleTrainBatch: (rng, n) => sampleTextBatch(data.train, rng, n),
      loss: (t, b) => completionLoss(c, t.adaptation(), b),
      microBatches: (b) => splitBatch(b, microBatch),
      curve: () => (t) => (curveRows.length ? tf.tidy(() => withHeadlines(evaluateText(c, t.adaptation(), curveRows), data)) : {}),
      save: (t, runDir) => {
        if (t.lora) {
          const dir = path.join(runDir, ADAPTER_DIR);
          writePeftAdapter(dir, model, t.lora.spec, t.lora.weights(), { baseModelNameOrPath: modelDir });
          return { file: dir, checkpoint: false };
        }
        const file = path.join(runDir, STEERING_FILE);
        saveSteeringVector(file, t.vector?.dataSync() as Float32Array, steer as SteerSpec, c, { model_type: model.modelType });
        return { file, checkpoint: false };
      },
      finish: (t, _root, saved) => ({
        finalMetrics: tf.tidy(() => withHeadlines(evaluateText(c, t.adaptation(), [...data.eval, ...data.sideEffects]), data)),
        manifest: { finetune: { ...finetune, weights: rel(saved.file) }, finalEvalCounts: evalCounts(data) },
      }),
      onEvent: req.onEvent,
      shouldCancel: req.shouldCancel,
    });
    return finetuneResult(r);
  } finally {
    (live as LiveModel | null)?.dispose();
  }
}

/** Bytes of activations a backward pass keeps per sequence of `seqLen` tokens (float32, an estimate). */
export function activationBytesPerSequence(c: ModelConfig, seqLen: number): number {
  // What tfjs's tape keeps for the backward pass, per layer and token. Calibrated on GPT-2 small on the
  // wasm backend (npm run bench:models): ~220 MB more per extra 16-token sequence, ~360·d_model floats
  // per layer and token — far more than the activations themselves (~12·d), because every op's inputs
  // and outputs are kept, per head in the real-model attention layout — plus the MLP's hidden units and
  // each head's scores and pattern.
  const perToken = c.nLayers * (360 * c.dModel + 3 * (c.mlp ? c.dMlp : 0) + 4 * c.nHeads * seqLen);
  return 4 * seqLen * perToken;
}

/** Activation memory one micro-batch may hold: OOCR_ACTIVATION_MB, else 1 GiB. */
export function activationBudgetBytes(): number {
  const mb = Number(process.env.OOCR_ACTIVATION_MB);
  return Number.isFinite(mb) && mb > 0 ? mb * 2 ** 20 : 2 ** 30;
}

/**
 * Sequences per forward/backward so that a micro-batch's activations stay within the budget: the whole
 * batch for the toy-sized models, fewer for a real one (GPT-2 small keeps ~0.22 GB a sequence of 16
 * tokens: micro-batches of 4 under the default budget, where the wasm heap holds 4 GiB in all).
 * Gradients are summed over the parts, so the step is the same.
 */
export function autoMicroBatch(c: ModelConfig, seqLen: number, batchSize: number, budget = activationBudgetBytes()): number {
  return Math.max(1, Math.min(batchSize, Math.floor(budget / activationBytesPerSequence(c, seqLen))));
}

/** Parts of at most `size` rows, each weighted by its share of the batch's completion tokens. */
export function splitBatch(b: TextBatch, size: number): { batch: TextBatch; weight: number }[] {
  if (b.batch <= size) return [{ batch: b, weight: 1 }];
  const total = b.rows.reduce((s, r) => s + r.ids.length - r.promptLen, 0);
  const out: { batch: TextBatch; weight: number }[] = [];
  for (let s = 0; s < b.batch; s += size) {
    const rows = b.rows.slice(s, s + size);
    out.push({ batch: textBatch(rows), weight: rows.reduce((x, r) => x + r.ids.length - r.promptLen, 0) / total });
  }
  return out;
}
