import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { LoraVsSteeringAnalysis } from '../../shared/analysis';
import type { BackendInfo } from '../../shared/backend';
import type { PeftLoraSpec, SteerSpec } from '../../shared/finetune';
import { hookName, type HookName } from '../../shared/hooks';
import type { Metrics, ModelConfig } from '../../shared/modelConfig';
import type { JobEvent } from '../../shared/progress';
import { cosine, lowRankSingularValues, pairwiseAbsCos, type Rows } from '../analysis/linalg';
import { capRows, concatRows, cosBlockMeans, deltaCosTrained, layerSweep, pickRows as pick, seedsRecord, stratifiedSample, summariseDeltas } from '../analysis/loraVsSteering';
import { readDataset } from '../data/datasetFolder';
import { writeFileAtomicSync } from '../io/atomicWrite';
import { ANALYSES_DIR, readManifest } from '../io/runStore';
import { writeSafetensorsFileSync } from '../io/safetensors';
import { loadHfLiveModel, readHfModelConfig, type HfModelConfig } from '../hf/loadHfModel';
import { loadPeftAdapter, type PeftAdapter } from '../hf/peftAdapter';
import { loadTokenizer, visibleToken, type TextTokenizer } from '../hf/tokenizer';
import { forward, type Params } from '../model/forward';
import type { LiveModel } from '../model/liveModel';
import type { StudyOutcome } from './loraVsSteering';
import { steeringIntervention } from './steering';
import { chunkByLength, labelCounts, textBatch, type EncodedExample } from './textBatches';
import {
  ADAPTER_DIR,
  encodeDataset,
  readSteeringVector,
  resolveSteerSpec,
  runTextFinetune,
  withHeadlines,
  type EncodedDataset,
  type TextFinetuneOptions,
  type TextFinetuneResult,
} from './textFinetune';
import { evaluateText, type TextAdaptation } from './textObjective';

/** arXiv 2507.08218 on a Hugging Face model and a text dataset, as plain data (what a job carries). */
export interface TextStudyOptions {
  model: string;
  /** Dataset folder with train.jsonl, eval.jsonl and side_effects.jsonl. */
  data: string;
  /** A PEFT adapter folder trained elsewhere (e.g. in Python) to analyse instead of training one. */
  adapter?: string;
  seed: number;
  outDir: string;
  peft?: Partial<PeftLoraSpec>;
  /** Layer whose resid_post carries the deltas and the vectors (default: the LoRA's last layer when it adapts only some, else the middle one). */
  layer?: number;
  positions?: 'all' | 'completion';
  loraSteps?: number;
  steerSteps?: number;
  loraLr?: number;
  steerLr?: number;
  batchSize?: number;
  microBatch?: number;
  evalSamples?: number;
  /** Examples per set (training, unrelated = side-effect prompts) whose token deltas are analysed. */
  deltaPrompts?: number;
}

export interface TextStudyRequest extends TextStudyOptions {
  backend: BackendInfo;
  onEvent?: (stage: string, e: JobEvent) => void;
  shouldCancel?: () => boolean;
}

/** Token deltas (adapted − base) of every layer's resid_post over examples, with a label per token. */
interface LayerDeltas {
  /** [layer] rows [nTokens, d]. */
  perLayer: Rows[];
  labels: string[];
  /** Position of each token in its sequence and whether it is a read-out (predicts a completion token). */
  positions: number[];
  readout: boolean[];
}

function layerDeltas(c: ModelConfig, params: Params, adapter: Params, rows: readonly EncodedExample[], tok: TextTokenizer, prefix: string): LayerDeltas {
  const hooks = Array.from({ length: c.nLayers }, (_, l) => hookName('hook_resid_post', l));
  const chunks: Rows[][] = hooks.map(() => []);
  const out: LayerDeltas = { perLayer: [], labels: [], positions: [], readout: [] };
  for (const part of chunkByLength(rows, 16)) {
    const b = textBatch(part);
    const diffs = tf.tidy(() => {
      const tokens = tf.tensor2d(b.tokens, [b.batch, b.seqLen], 'int32');
      const base = forward(c, params, tokens, { cache: hooks }).cache;
      const ad = forward(c, params, tokens, { cache: hooks, adapter }).cache;
      return hooks.map((h) => ad[h].sub(base[h]).dataSync() as Float32Array);
    });
    part.forEach((r, i) => {
      const n = r.ids.length - 1;
      for (let t = 0; t < n; t++) {
        out.labels.push(`${prefix}:${visibleToken(tok.tokenText(r.ids[t]))}@${t}`);
        out.positions.push(t);
        out.readout.push(t + 1 >= r.promptLen);
      }
      hooks.forEach((_, l) => chunks[l].push({ n, d: c.dModel, data: diffs[l].slice(i * b.seqLen * c.dModel, (i * b.seqLen + n) * c.dModel) }));
    });
  }
  out.perLayer = chunks.map((cs) => concatRows(...cs));
  return out;
}

// Shared with the toy study (src/core/finetune/loraVsSteering.ts); exported here as before.
export { stratifiedSample };

/** The study's default hook layer: the adapted layer if the LoRA adapts few, else the middle of the model. */
function defaultLayer(c: ModelConfig, adapterLayers: readonly number[]): number {
  return adapterLayers.length < c.nLayers ? Math.max(...adapterLayers) : Math.floor(c.nLayers / 2);
}

/**
 * The LoRA-vs-steering study on a real model: train (or take) a PEFT LoRA, train two steering vectors
 * from scratch at one layer's resid_post with the model frozen, and compare: accuracies of base, LoRA,
 * the LoRA's natural vector (PC1 of its token deltas) and the trained vectors; how one-directional the
 * deltas are at every layer; the cosine of each token's delta with the trained vector.
 */
export async function runTextStudy(o: TextStudyRequest): Promise<StudyOutcome> {
  const outDir = path.resolve(o.outDir);
  if (fs.existsSync(path.join(outDir, ANALYSES_DIR, 'lora_vs_steering.json'))) throw new Error(`${outDir} already holds a lora-vs-steering analysis; choose another --out`);
  const modelDir = path.resolve(o.model);
  const model = readHfModelConfig(modelDir);
  const c = model.config;
  const tok = loadTokenizer(modelDir);
  const dataset = readDataset(o.data);
  if (dataset.eval.length === 0) throw new Error(`${o.data}: the study needs held-out examples (eval.jsonl)`);
  const data = encodeDataset(tok, c, dataset);
  const common = {
    model: modelDir,
    data: o.data,
    batchSize: o.batchSize ?? 32,
    microBatch: o.microBatch,
    weightDecay: 0,
    logEvery: 25,
    evalSamples: o.evalSamples ?? 50,
  };
  const stage = (name: string, run: Omit<TextFinetuneOptions, keyof typeof common>): Promise<TextFinetuneResult> =>
    runTextFinetune({ ...common, ...run, backend: o.backend, onEvent: (e) => o.onEvent?.(name, e), shouldCancel: o.shouldCancel });

  let adapterDir: string;
  let loraRunDir: string;
  let adapter: PeftAdapter;
  if (o.adapter) {
    adapterDir = path.resolve(o.adapter);
    loraRunDir = adapterDir;
    adapter = loadPeftAdapter(adapterDir, model); // before any training: fails naming the module if it does not fit
  } else {
    const r = await stage('lora', { method: 'lora', peft: o.peft, steps: o.loraSteps ?? 300, lr: o.loraLr ?? 3e-3, seed: o.seed, outDir: path.join(outDir, 'lora') });
    if (r.status === 'cancelled') return { status: 'cancelled', runDir: outDir, stage: 'lora' };
    loraRunDir = r.runDir;
    adapterDir = path.join(r.runDir, ADAPTER_DIR);
    adapter = loadPeftAdapter(adapterDir, model);
  }
  const layer = o.layer ?? defaultLayer(c, adapter.layers);
  const steer: SteerSpec = resolveSteerSpec(c, { layer, positions: o.positions ?? 'all' });
  const hook = hookName('hook_resid_post', layer);
  const steerRun = async (name: string, seed: number, dir: string): Promise<TextFinetuneResult | null> => {
    const r = await stage(name, { method: 'steer', steer, steps: o.steerSteps ?? 300, lr: o.steerLr ?? 3e-2, seed, outDir: path.join(outDir, dir) });
    return r.status === 'cancelled' ? null : r;
  };
  const s1 = await steerRun('steer', o.seed, 'steer');
  if (!s1) return { status: 'cancelled', runDir: outDir, stage: 'steer' };
  const s2 = await steerRun('steer (second seed)', o.seed + 1000, 'steer-seed2');
  if (!s2) return { status: 'cancelled', runDir: outDir, stage: 'steer (second seed)' };
  const trained = [readSteeringVector(s1.weightsFile).vector, readSteeringVector(s2.weightsFile).vector];

  const live = loadHfLiveModel(modelDir).live;
  try {
    const analysis = analyse(o, { outDir, modelDir, model, tok, data, adapter, adapterDir, loraRunDir, live, steer, hook, trained, runs: [s1.runDir, s2.runDir] });
    const dir = path.join(outDir, ANALYSES_DIR);
    fs.mkdirSync(dir, { recursive: true });
    writeSafetensorsFileSync(path.join(dir, 'lora_vs_steering.safetensors'), analysis.tensors, { hook, model_type: model.modelType });
    const rel = (p: string): string => path.relative(outDir, p).split(path.sep).join('/') || '.';
    const r = analysis.record;
    const onDisk: LoraVsSteeringAnalysis = {
      ...r,
      run: '.',
      runs: { lora: rel(r.runs.lora), steer: rel(r.runs.steer), steer_seed2: rel(r.runs.steer_seed2) },
      model: r.model && { ...r.model, dir: rel(r.model.dir), data: rel(r.model.data), adapter: rel(r.model.adapter) },
    };
    writeFileAtomicSync(path.join(dir, 'lora_vs_steering.json'), `${JSON.stringify(onDisk, null, 2)}\n`);
    return { status: 'completed', runDir: outDir, analysis: r };
  } finally {
    live.dispose();
  }
}

interface StudyContext {
  outDir: string;
  modelDir: string;
  model: HfModelConfig;
  tok: TextTokenizer;
  data: EncodedDataset;
  adapter: PeftAdapter;
  adapterDir: string;
  loraRunDir: string;
  live: LiveModel;
  steer: SteerSpec;
  hook: HookName;
  trained: Float32Array[];
  runs: string[];
}

function analyse(o: TextStudyOptions, x: StudyContext): { record: LoraVsSteeringAnalysis; tensors: Record<string, { shape: number[]; data: Float32Array }> } {
  const c = x.model.config;
  const params = x.live.params;
  const adapterParams: Params = Object.fromEntries(Object.entries(x.adapter.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape)]));
  try {
    const n = o.deltaPrompts ?? 32;
    const unrelatedRows = x.data.sideEffects.length ? x.data.sideEffects : x.data.eval;
    const trainD = layerDeltas(c, params, adapterParams, x.data.train.slice(0, n), x.tok, 'train');
    const unrelD = layerDeltas(c, params, adapterParams, unrelatedRows.slice(0, n), x.tok, 'unrelated');
    const layer = x.steer.layer;
    // Pairwise |cos| is quadratic in the tokens: summaries read at most this many per set.
    const CAP = 512;
    const trainRows = capRows(trainD.perLayer[layer], CAP);
    const unrelRows = capRows(unrelD.perLayer[layer], CAP);
    const summary = { train: summariseDeltas(trainRows), unrelated: summariseDeltas(unrelRows), all: summariseDeltas(concatRows(trainRows, unrelRows)) };
    const natural = summary.all.naturalVector;
    const [sv1, sv2] = x.trained.map((v) => Array.from(v));

    const evalRows = [...x.data.eval, ...x.data.sideEffects];
    const withVector = (v: readonly number[]): Metrics =>
      tf.tidy(() => {
        const t = tf.tensor1d(Float32Array.from(v));
        const a: TextAdaptation = { params, interventions: (mask) => [steeringIntervention(c, x.steer, t, undefined, mask)] };
        return withHeadlines(evaluateText(c, a, evalRows), x.data);
      });
    const metrics = {
      base: tf.tidy(() => withHeadlines(evaluateText(c, { params }, evalRows), x.data)),
      lora: tf.tidy(() => withHeadlines(evaluateText(c, { params, adapter: adapterParams }, evalRows), x.data)),
      natural_sv: withVector(natural),
      trained_sv: withVector(sv1),
      trained_sv_seed2: withVector(sv2),
    };
    const acc = (m: Metrics): number => m.heldout_acc ?? NaN;
    const nHeld = x.data.eval.length;
    const nSide = x.data.sideEffects.length;
    const side = (m: Metrics): number => m.side_effect_acc ?? NaN;

    // Display sample of the |cos| matrix: spread over positions, the read-out tokens included.
    const half = 24;
    const tIdx = stratifiedSample(trainD.positions, trainD.readout, half);
    const uIdx = stratifiedSample(unrelD.positions, unrelD.readout, half);
    const full = { train: trainD.perLayer[layer], unrelated: unrelD.perLayer[layer] };
    const sample = concatRows(pick(full.train, tIdx), pick(full.unrelated, uIdx));
    const cosMatrix = pairwiseAbsCos(sample).matrix.map((r) => r.map((v) => Number(v.toFixed(4))));
    const labels = [...tIdx.map((i) => trainD.labels[i]), ...uIdx.map((i) => unrelD.labels[i])];

    const sweep = layerSweep(trainD.perLayer, unrelD.perLayer, { layer, natural, trained: sv1, cap: 256 });

    const spectra: { weight: string; values: number[] }[] = [];
    for (const key of Object.keys(x.adapter.tensors)) {
      if (!key.endsWith('.lora_A')) continue;
      const weight = key.slice(0, -'.lora_A'.length);
      const A = x.adapter.tensors[key];
      const B = x.adapter.tensors[`${weight}.lora_B`];
      spectra.push({ weight, values: lowRankSingularValues(A.data, A.shape[0], A.shape[1], B.data, B.shape[1]).map((v) => Number(v.toPrecision(6))) });
    }

    const manifest = x.data.dataset.manifest;
    const record: LoraVsSteeringAnalysis = {
      acc: { base: acc(metrics.base), lora: acc(metrics.lora), natural_sv: acc(metrics.natural_sv), trained_sv: acc(metrics.trained_sv) },
      side_effect_acc: { base: side(metrics.base), lora: side(metrics.lora), natural_sv: side(metrics.natural_sv), trained_sv: side(metrics.trained_sv) },
      lora_delta: { mean_abs_cos: summary.all.meanAbsCos, pc1_var_ratio: summary.all.pc1VarRatio },
      cos_trained_vs_natural: cosine(sv1, natural),
      cos_trained_across_seeds: cosine(sv1, sv2),
      run: x.outDir,
      kind: manifest?.kind ?? path.basename(path.resolve(o.data)),
      seed: o.seed,
      latentCity: null,
      hook: x.hook,
      chance: manifest?.chance ?? NaN,
      peft: { r: x.adapter.r, alpha: x.adapter.alpha, targetModules: Array.isArray(x.adapter.targets) ? x.adapter.targets : [x.adapter.targets], layers: x.adapter.layers },
      model: { dir: x.modelDir, modelType: x.model.modelType, data: path.resolve(o.data), adapter: x.adapterDir, adapterTrainedHere: !o.adapter },
      deltas: summary,
      cos_matrix: { labels, values: cosMatrix, positions: [...tIdx.map((i) => trainD.positions[i]), ...uIdx.map((i) => unrelD.positions[i])], readout: [...tIdx.map((i) => trainD.readout[i]), ...uIdx.map((i) => unrelD.readout[i])] },
      delta_w_singular_values: spectra,
      metrics,
      runs: { lora: x.loraRunDir, steer: x.runs[0], steer_seed2: x.runs[1] },
      norms: { natural_sv: Math.hypot(...natural), trained_sv: Math.hypot(...sv1), trained_sv_seed2: Math.hypot(...sv2) },
      delta_cos_trained: deltaCosTrained({ rows: full.train, index: tIdx, labels: trainD.labels }, { rows: full.unrelated, index: uIdx, labels: unrelD.labels }, sv1),
      layer_sweep: sweep,
      seeds: seedsRecord([
        { seed: o.seed, acc: acc(metrics.trained_sv), side_effect_acc: side(metrics.trained_sv), vector: sv1, n: nHeld, side_effect_n: nSide },
        { seed: o.seed + 1000, acc: acc(metrics.trained_sv_seed2), side_effect_acc: side(metrics.trained_sv_seed2), vector: sv2, n: nHeld, side_effect_n: nSide },
      ]),
      // Every method is evaluated on the dataset's own eval and side-effect examples: the intervals' n.
      eval_n: {
        acc: { base: nHeld, lora: nHeld, natural_sv: nHeld, trained_sv: nHeld, trained_sv_seed2: nHeld },
        side_effect_acc: { base: nSide, lora: nSide, natural_sv: nSide, trained_sv: nSide, trained_sv_seed2: nSide },
      },
      evaluation: { seed: o.seed, heldout_sets: labelCounts(x.data.eval), side_effect_sets: labelCounts(x.data.sideEffects) },
      cos_block_means: cosBlockMeans(trainRows, unrelRows),
    };
    const all = concatRows(full.train, full.unrelated);
    const tensors = {
      deltas: { shape: [all.n, all.d], data: all.data },
      natural_sv: { shape: [natural.length], data: Float32Array.from(natural) },
      trained_sv: { shape: [sv1.length], data: Float32Array.from(sv1) },
      trained_sv_seed2: { shape: [sv2.length], data: Float32Array.from(sv2) },
    };
    return { record, tensors };
  } finally {
    Object.values(adapterParams).forEach((t) => t.dispose());
  }
}

/** A text fine-tune run's trained weights, for analysis: its adapter folder or vector file. */
export function textRunWeights(runDir: string): { method: 'lora' | 'steer'; modelDir: string; weights: string } {
  const m = readManifest(runDir);
  const f = m.finetune;
  if (!f || f.baseKind !== 'model' || !f.weights || f.method === 'full') throw new Error(`${runDir}: not a completed fine-tune of a model folder`);
  return { method: f.method, modelDir: path.resolve(runDir, f.base), weights: path.resolve(runDir, f.weights) };
}
