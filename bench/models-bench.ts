// Real-model benchmark: `npm run bench:models` [-- --profile] [-- --only gpt2|pythia] [-- --keep DIR]
// [-- --no-finetune | --finetune-only].
//
// A GPT-2-small-shaped (124M) and a Pythia-160M-shaped model with random weights, written in Hugging
// Face layout by bench/models_numpy.py (GPT-2 as F32, Pythia as F16, as on the Hub). For each: load
// time, peak RSS against the weights' float32 size, and forward latency for 16/64/256 tokens with its
// GFLOP/s, beside the same forward in numpy (float32) on the same machine, in the same run. Each model
// loads in a fresh child process, so its peak RSS is its own. Not a unit test: timings depend on the
// machine and its load.
//
// For GPT-2 only (to keep the bench short), also a fine-tuning step through the app's own code path
// (buildTextTrainee → completionLoss → variableGrads → AdamW, as src/core/train/trainingLoop.ts): a
// rank-8 LoRA on c_attn of every layer (PEFT's default for GPT-2) and a steering vector at
// blocks.6.hook_resid_post, in a child process of their own; beside them an analytic FLOP count of the
// step at the backend's and numpy's matmul rates, the same LoRA step in numpy, and a projection of the
// locations study. `-- --no-finetune` skips that part; `-- --finetune-only` runs only it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend/initBackend';
import { generateLocationsDataset } from '../src/core/data/generators/locations';
import { buildTextTrainee, resolvePeftSpec, resolveSteerSpec, type TextTrainee } from '../src/core/finetune/textFinetune';
import { textBatch, type EncodedExample, type TextBatch } from '../src/core/finetune/textBatches';
import { completionLoss } from '../src/core/finetune/textObjective';
import { loadHfLiveModel, readHfModelConfig } from '../src/core/hf/loadHfModel';
import { estimateTrainFlops } from '../src/core/model/flops';
import { forward } from '../src/core/model/forward';
import { paramSpecs } from '../src/core/model/params';
import { AdamW } from '../src/core/train/adamw';
import type { ModelConfig } from '../src/shared/modelConfig';
import { matmulGflops, withKernelClock } from './measure';
import { tidyHost } from '../src/core/util/tidyHost';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LENGTHS = [16, 64, 256];
const REPEATS = 3;
const MB = 2 ** 20;

/** The fine-tuning step's batch: 4 sequences of 64 input tokens, the last 8 targets the completion. */
const FT = { batch: 4, seqLen: 64, completion: 8, rank: 8, steerLayer: 6, timedSteps: 3 };

/**
 * What the locations study runs (`oocr reproduce lora-vs-steering --model DIR --data DIR`, defaults of
 * src/cli/commands/finetuneCommands.ts and src/core/finetune/textStudy.ts): a LoRA and two steering
 * vectors, 300 steps each at batch 16, a curve evaluation at step 1, every 25 steps and the last, a final
 * evaluation on every held-out and side-effect example, then the analysis (5 evaluations, and the
 * LoRA's deltas: base and adapted forwards of 64 training and 64 unrelated prompts).
 * GPT-2's tokenizer is not on this machine (no downloads), so the token counts are assumptions.
 */
const STUDY = { steps: 300, steerRuns: 2, batch: 16, logEvery: 25, evalSamples: 50, evalChunk: 32, deltaPrompts: 64, analysisEvals: 5, tokensPerExample: 20, completionTokens: 4 };
/** Assumed for the GPU estimate: effective matmul throughput and per-kernel dispatch cost. */
const GPU = { tflops: 10, usPerKernel: 50, label: 'a mid-range GPU through tfjs-node-gpu or WebGPU' };

interface ChildResult {
  backend: string;
  params: number;
  float32Bytes: number;
  baselineRss: number;
  loadMs: number;
  peakRssAfterLoad: number;
  peakRss: number;
  forwardMs: Record<string, number>;
  gflop: Record<string, number>;
  profile?: { kernel: string; ms: number; calls: number }[];
  /** The backend's plain matmul on the MLP's shape ([256, d_model]·[d_model, d_mlp], weights packed once), this run. */
  matmulGflops: number;
  /** tf.memory() after load and after all forwards: must not grow. */
  tensors: { afterLoad: [number, number]; afterForwards: [number, number] };
}

const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

async function child(dir: string, profile: boolean): Promise<void> {
  const backend = await initBackend();
  const baselineRss = maxRss();
  const t0 = performance.now();
  const { model, live } = loadHfLiveModel(dir);
  const loadMs = performance.now() - t0;
  const peakRssAfterLoad = maxRss();
  const c = model.config;
  const memAfterLoad: [number, number] = [tf.memory().numTensors, tf.memory().numBytes];
  const float32Bytes = paramSpecs(c).reduce((s, p) => s + 4 * p.shape.reduce((a, b) => a * b, 1), 0);
  const forwardMs: Record<string, number> = {};
  const gflop: Record<string, number> = {};
  for (const T of LENGTHS) {
    const ids = tf.tensor2d(Int32Array.from({ length: T }, (_, i) => (i * 7919) % c.dVocab), [1, T], 'int32');
    // tidyHost, not tf.tidy: tf.tidy would scan the returned logits array key by key (seconds per call).
    const run = (): void => void tidyHost(() => forward(c, live.params, ids).logits.dataSync());
    run();
    const times: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const s = performance.now();
      run();
      times.push(performance.now() - s);
    }
    ids.dispose();
    forwardMs[T] = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
    gflop[T] = estimateTrainFlops(c, 1, T, 'all').forward / 1e9;
  }
  // Before profiling: tf.profile keeps its own records and would inflate the peak.
  const peakRss = maxRss();
  const memAfterForwards: [number, number] = [tf.memory().numTensors, tf.memory().numBytes];
  const peak = matmulGflops(256, c.dModel, c.dMlp, { warmup: 2, minSeconds: 1, maxIters: 20 }).gflops;
  let kernels: ChildResult['profile'];
  if (profile) {
    const ids = tf.tensor2d(Int32Array.from({ length: 64 }, (_, i) => i), [1, 64], 'int32');
    const info = await tf.profile(() => tidyHost(() => forward(c, live.params, ids).logits.dataSync()));
    ids.dispose();
    const by = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = by.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      e.calls++;
      by.set(k.name, e);
    }
    kernels = [...by.entries()].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms).slice(0, 12);
  }
  live.dispose();
  const out: ChildResult = { backend: backend.name, params: paramSpecs(c).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0), float32Bytes, baselineRss, loadMs, peakRssAfterLoad, peakRss, forwardMs, gflop, profile: kernels, matmulGflops: peak, tensors: { afterLoad: memAfterLoad, afterForwards: memAfterForwards } };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

interface StepTiming {
  /** Wall ms of each timed step (after one warm-up step). */
  ms: number[];
  /** Loss of the warm-up step (the LoRA starts with B = 0, so this is the base model's loss). */
  loss: number;
  /** Outermost kernel calls in one step (counted on the warm-up step). */
  kernels: number;
}

interface FinetuneChildResult {
  backend: string;
  trainable: { lora: number; steer: number };
  lora: StepTiming;
  steer: StepTiming;
  /** completionLoss alone (no gradients) on the same batch, as the evaluations run it. */
  forward: StepTiming;
  /** Kernel launches of a step at the study's batch (LoRA, steering) and of an evaluation chunk. */
  studyKernels: { lora: number; steer: number; forward: number };
  matmulGflops: number;
  peakRss: number;
  float32Bytes: number;
  /** tf.memory().numTensors before the trainees and after disposing them: must be equal. */
  tensors: [number, number];
}

/**
 * B examples as the app encodes them, T input tokens each (T + 1 ids: the last one is only a target),
 * the last `completion` targets the completion; random-looking ids below the vocabulary, the same as
 * models_numpy.py's.
 */
function benchRows(vocab: number, B: number, T: number, completion: number): EncodedExample[] {
  const n = T + 1;
  return Array.from({ length: B }, (_, b) => ({
    ids: Int32Array.from({ length: n }, (_, t) => (1 + 7919 * (b * n + t)) % vocab),
    promptLen: n - completion,
    label: 'train',
  }));
}

async function finetuneChild(dir: string): Promise<void> {
  const backend = await initBackend();
  const model = readHfModelConfig(dir);
  const { live } = loadHfLiveModel(dir);
  const c = model.config;
  const before = tf.memory().numTensors;
  const optimizer = { name: 'adamw' as const, lr: 1e-4, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  const kernelsOf = (fn: () => number): { result: number; kernels: number } => {
    const { result, clock } = withKernelClock(tf.getBackend(), fn);
    return { result, kernels: [...clock.byName.values()].reduce((sum, k) => sum + k.calls, 0) };
  };
  const timed = (fn: () => number, n: number): StepTiming => {
    const warm = kernelsOf(fn);
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      fn();
      ms.push(performance.now() - t0);
    }
    return { ms, loss: warm.result, kernels: warm.kernels };
  };
  const lora = (): TextTrainee => buildTextTrainee(model, live.params, 'lora', { peft: resolvePeftSpec(model, { r: FT.rank }), seed: 0 });
  const steer = (): TextTrainee => buildTextTrainee(model, live.params, 'steer', { steer: resolveSteerSpec(c, { layer: FT.steerLayer, positions: 'all' }), seed: 0 });
  /** `use` gets one training step as src/core/train/trainingLoop.ts runs it (a single micro-batch). */
  const withStep = <R>(trainee: TextTrainee, batch: TextBatch, use: (step: () => number) => R): R => {
    const adamw = new AdamW(trainee.variables, optimizer);
    try {
      return use(() =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => completionLoss(c, trainee.adaptation(), batch), trainee.variables);
          const loss = value.dataSync()[0];
          if (Number.isFinite(loss)) adamw.apply(trainee.variables.map((v) => grads[v.name]));
          return loss;
        }),
      );
    } finally {
      adamw.dispose();
      trainee.dispose();
    }
  };
  const forwardOf = (batch: TextBatch) => (): number => tf.tidy(() => completionLoss(c, { params: live.params }, batch).dataSync()[0]);
  const batch = textBatch(benchRows(c.dVocab, FT.batch, FT.seqLen, FT.completion));
  const probe = lora();
  const trainable = { lora: probe.variables.reduce((sum, v) => sum + v.size, 0), steer: c.dModel };
  const loraTiming = withStep(probe, batch, (step) => timed(step, FT.timedSteps));
  const steerTiming = withStep(steer(), batch, (step) => timed(step, FT.timedSteps));
  const fwd = timed(forwardOf(batch), 2);
  // Kernel launches at the study's batch sizes (the attention runs per sequence, so they grow with the
  // batch; they do not depend on the length): one step on 4-token sequences.
  const short = (B: number): TextBatch => textBatch(benchRows(c.dVocab, B, 4, 2));
  const studyKernels = {
    lora: withStep(lora(), short(STUDY.batch), (step) => kernelsOf(step).kernels),
    steer: withStep(steer(), short(STUDY.batch), (step) => kernelsOf(step).kernels),
    forward: kernelsOf(forwardOf(short(STUDY.evalChunk))).kernels,
  };
  const after = tf.memory().numTensors;
  const peakRss = maxRss();
  const peak = matmulGflops(256, c.dModel, c.dMlp, { warmup: 2, minSeconds: 1, maxIters: 20 }).gflops;
  live.dispose();
  const float32Bytes = paramSpecs(c).reduce((sum, p) => sum + 4 * p.shape.reduce((a, b) => a * b, 1), 0);
  const out: FinetuneChildResult = { backend: backend.name, trainable, lora: loraTiming, steer: steerTiming, forward: fwd, studyKernels, matmulGflops: peak, peakRss, float32Bytes, tensors: [before, after] };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/**
 * Analytic matmul FLOPs of one step on a GPT-2-shaped model (N = B·T tokens, n_out = B·completion
 * read-out positions, r the LoRA rank; element-wise work, LayerNorm, softmax and the optimizer ignored):
 *
 *   dense(layer) = 2N·(4d² + 2d·d_mlp)       c_attn, c_proj, c_fc, mlp.c_proj
 *   attn(layer)  = 2·2·B·T²·d                QKᵀ and pattern·V over all heads (full T×T, then masked)
 *   lora(layer)  = 3·(2N·d·r + 2N·r·d)       x·A·B per Q/K/V part of c_attn (the engine multiplies x·A per part)
 *   unembed      = 2·n_out·d·V               only the completion positions are unembedded (readoutAt)
 *
 *   forward  = L·(dense + attn [+ lora]) + unembed
 *   LoRA backward: activation gradients only (tfjs prunes the frozen weights' gradients): the dense
 *     products once more (dX = dY·Wᵀ) less layer 0's c_attn input (not a function of the LoRA), the
 *     attention products twice (both operands are activations), the LoRA products twice (dA, dB, dx),
 *     the unembedding once:  L·dense − 6N·d² + 2L·attn + 2L·lora + unembed
 *   steering backward (vector at resid_post of layer ls): the blocks after it and the unembedding:
 *     (L − 1 − ls)·(dense + 2·attn) + unembed
 *   forward only: no backward.
 */
function stepFlops(c: ModelConfig, method: 'lora' | 'steer' | 'forward', B: number, T: number, completion: number): { forward: number; backward: number } {
  const { dModel: d, dMlp: m, dVocab: V, nLayers: L } = c;
  const N = B * T;
  const dense = 2 * N * (4 * d * d + 2 * d * m);
  const attn = 2 * 2 * B * T * T * d;
  const lora = method === 'lora' ? 3 * (2 * N * d * FT.rank + 2 * N * FT.rank * d) : 0;
  const unembed = 2 * B * completion * d * V;
  const fwd = L * (dense + attn + lora) + unembed;
  if (method === 'forward') return { forward: fwd, backward: 0 };
  if (method === 'steer') return { forward: fwd, backward: (L - 1 - FT.steerLayer) * (dense + 2 * attn) + unembed };
  return { forward: fwd, backward: L * dense - 6 * N * d * d + 2 * L * attn + 2 * L * lora + unembed };
}

function runFinetuneChild(dir: string): FinetuneChildResult {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/run-ts.mjs'), path.join(ROOT, 'bench/models-bench.ts'), '--child-finetune', dir], { encoding: 'utf8', maxBuffer: 16 * MB });
  if (r.status !== 0) throw new Error(`fine-tune bench child for ${dir} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as FinetuneChildResult;
}

interface NumpyLora {
  matmul_gflops: number;
  loss: number;
  ms: number[];
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmtMin = (seconds: number): string => (seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 60).toFixed(1)} min`);

/** Prints the fine-tuning section: measured steps, references measured in the same run, the study projection. */
function reportFinetune(dir: string, c: ModelConfig): void {
  const ft = runFinetuneChild(dir);
  const npArgs = ['lora', dir, ...[FT.batch, FT.seqLen, FT.completion, FT.rank, FT.timedSteps].map(String)];
  const np = JSON.parse(python(npArgs)) as NumpyLora;
  const np1 = JSON.parse(python(npArgs, { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' })) as NumpyLora;
  const w = (text: string): void => void process.stdout.write(text);
  const tokens = FT.batch * FT.seqLen;
  const flops = { lora: stepFlops(c, 'lora', FT.batch, FT.seqLen, FT.completion), steer: stepFlops(c, 'steer', FT.batch, FT.seqLen, FT.completion), forward: stepFlops(c, 'forward', FT.batch, FT.seqLen, FT.completion) };
  const total = (f: { forward: number; backward: number }): number => f.forward + f.backward;
  w(`\n  fine-tuning step (GPT-2 small, backend ${ft.backend}): buildTextTrainee → variableGrads(completionLoss) → AdamW, base frozen; batch ${FT.batch} × ${FT.seqLen} tokens, completion = last ${FT.completion}; 1 warm-up step, ${FT.timedSteps} timed\n`);
  w(`    lora : rank ${FT.rank} on c_attn of all ${c.nLayers} layers (PEFT's default for GPT-2), alpha ${2 * FT.rank}, ${ft.trainable.lora.toLocaleString('en-US')} trainable\n`);
  w(`    steer: one d_model vector (${ft.trainable.steer}) added at blocks.${FT.steerLayer}.hook_resid_post, all positions\n`);
  w(`    forward: completionLoss alone on the same batch (what the evaluations run)\n`);
  w(`    analytic matmul FLOPs, N = B·T = ${tokens}, n_out = B·completion = ${FT.batch * FT.completion} (see stepFlops in bench/models-bench.ts):\n`);
  w(`      forward  = L·(2N·(4d² + 2d·d_mlp) + 4B·T²·d [+ 12N·d·r]) + 2·n_out·d·V\n`);
  w(`      backward = LoRA: L·2N·(4d² + 2d·d_mlp) − 6N·d² + 8L·B·T²·d + 24L·N·d·r + 2·n_out·d·V  (activation gradients only)\n`);
  w(`                 steer at layer ${FT.steerLayer}: (L−1−${FT.steerLayer})·(2N·(4d² + 2d·d_mlp) + 8B·T²·d) + 2·n_out·d·V\n`);
  w(`    ${'step'.padEnd(8)} ${'GFLOP'.padStart(13)} ${'ms/step'.padStart(8)} ${'min–max'.padStart(13)} ${'tokens/s'.padStart(9)} ${'GFLOP/s'.padStart(8)} ${'of peak'.padStart(8)} ${'kernels'.padStart(8)} ${'loss'.padStart(7)}\n`);
  for (const k of ['lora', 'steer', 'forward'] as const) {
    const t = ft[k];
    const ms = mean(t.ms);
    const f = total(flops[k]) / 1e9;
    const split = k === 'forward' ? `${f.toFixed(1)}` : `${(flops[k].forward / 1e9).toFixed(1)}+${(flops[k].backward / 1e9).toFixed(1)}`;
    w(
      `    ${k.padEnd(8)} ${split.padStart(13)} ${ms.toFixed(0).padStart(8)} ${`${Math.min(...t.ms).toFixed(0)}–${Math.max(...t.ms).toFixed(0)}`.padStart(13)} ${((tokens * 1000) / ms).toFixed(0).padStart(9)} ${(f / (ms / 1000)).toFixed(1).padStart(8)} ${`${((100 * f) / (ms / 1000) / ft.matmulGflops).toFixed(0)}%`.padStart(8)} ${String(t.kernels).padStart(8)} ${t.loss.toFixed(4).padStart(7)}\n`,
    );
  }
  const [t0, t1] = ft.tensors;
  w(`    peak RSS of the fine-tuning child ${(ft.peakRss / MB).toFixed(0)} MB = ${(ft.peakRss / ft.float32Bytes).toFixed(2)}× the float32 weights; tf.memory ${t0} tensors before the trainees, ${t1} after${t1 === t0 ? ' (flat)' : ' (GROWS: a leak)'}\n`);
  const loraMs = mean(ft.lora.ms);
  const loraF = total(flops.lora);
  w(`    reference for the LoRA step (${(loraF / 1e9).toFixed(1)} GFLOP), measured in this run:\n`);
  const ref = (label: string, ms: number): void => w(`      ${label.padEnd(58)} ${ms.toFixed(0).padStart(6)} ms   tfjs/reference ${(loraMs / ms).toFixed(2)}×\n`);
  ref(`at the ${ft.backend} matmul peak (${ft.matmulGflops.toFixed(1)} GFLOP/s, [256,d]·[d,d_mlp])`, (loraF / (ft.matmulGflops * 1e9)) * 1000);
  ref(`at numpy's matmul rate (${np.matmul_gflops.toFixed(0)} GFLOP/s, same shape)`, (loraF / (np.matmul_gflops * 1e9)) * 1000);
  ref(`at numpy's 1-thread matmul rate (${np1.matmul_gflops.toFixed(0)} GFLOP/s)`, (loraF / (np1.matmul_gflops * 1e9)) * 1000);
  ref(`numpy LoRA step, measured (forward + backward + AdamW)`, mean(np.ms));
  ref(`numpy LoRA step, 1 thread, measured`, mean(np1.ms));
  w(`      first-step loss: tfjs ${ft.lora.loss.toFixed(4)}, numpy ${np.loss.toFixed(4)} (same weights and batch, B = 0: the base model's)\n`);

  // Projection of the locations study from the rates just measured.
  const ds = generateLocationsDataset({ seed: 0 });
  const heldout = [...ds.eval, ...ds.sideEffects];
  const perLabel = new Map<string, number>();
  for (const e of heldout) perLabel.set(e.label ?? '', (perLabel.get(e.label ?? '') ?? 0) + 1);
  const curveRows = [...perLabel.values()].reduce((sum, n) => sum + Math.min(n, STUDY.evalSamples), 0);
  const evalsPerRun = new Set([1, STUDY.steps, ...Array.from({ length: Math.floor(STUDY.steps / STUDY.logEvery) }, (_, i) => (i + 1) * STUDY.logEvery)]).size;
  const runs = 1 + STUDY.steerRuns;
  const evalRows = runs * (evalsPerRun * curveRows + heldout.length);
  const chars = (xs: typeof ds.train): number => mean(xs.map((e) => e.prompt.length + e.completion.length));
  const tpe = STUDY.tokensPerExample;
  const stepTokens = STUDY.batch * tpe;
  // Analytic FLOPs of each part. The evaluations unembed the completion positions only; the delta
  // analysis runs forward() without readoutAt, so it unembeds every position.
  const perSeq = (completion: number): number => total(stepFlops(c, 'forward', 1, tpe, completion));
  const deltaSeqs = 2 * (Math.min(STUDY.deltaPrompts, ds.train.length) + Math.min(STUDY.deltaPrompts, ds.sideEffects.length));
  const studyFlops = {
    lora: STUDY.steps * total(stepFlops(c, 'lora', STUDY.batch, tpe, STUDY.completionTokens)),
    steer: STUDY.steerRuns * STUDY.steps * total(stepFlops(c, 'steer', STUDY.batch, tpe, STUDY.completionTokens)),
    evals: evalRows * perSeq(STUDY.completionTokens),
    analysis: STUDY.analysisEvals * heldout.length * perSeq(STUDY.completionTokens) + deltaSeqs * perSeq(tpe),
  };
  // Here: those FLOPs at the GFLOP/s this backend reached on the same kind of step above.
  const rate = (k: 'lora' | 'steer' | 'forward'): number => total(flops[k]) / (mean(ft[k].ms) / 1000);
  const here = { lora: studyFlops.lora / rate('lora'), steer: studyFlops.steer / rate('steer'), evals: studyFlops.evals / rate('forward'), analysis: studyFlops.analysis / rate('forward') };
  const passes = (rows: number, chunk: number): number => Math.ceil(rows / chunk);
  const launches = {
    lora: STUDY.steps * ft.studyKernels.lora,
    steer: STUDY.steerRuns * STUDY.steps * ft.studyKernels.steer,
    evals: runs * (evalsPerRun * passes(curveRows, STUDY.evalChunk) + passes(heldout.length, STUDY.evalChunk)) * ft.studyKernels.forward,
    // layerDeltas runs chunks of 16, twice each (base and adapted); counted as evaluation chunks.
    analysis: (STUDY.analysisEvals * passes(heldout.length, STUDY.evalChunk) + 2 * (passes(Math.min(STUDY.deltaPrompts, ds.train.length), 16) + passes(Math.min(STUDY.deltaPrompts, ds.sideEffects.length), 16))) * ft.studyKernels.forward,
  };
  const gpuOf = (k: keyof typeof studyFlops): number => studyFlops[k] / (GPU.tflops * 1e12) + (launches[k] * GPU.usPerKernel) / 1e6;
  const gpuT = { lora: gpuOf('lora'), steer: gpuOf('steer'), evals: gpuOf('evals'), analysis: gpuOf('analysis') };
  const sum = (x: Record<string, number>): number => Object.values(x).reduce((a, b) => a + b, 0);
  w(`\n  projection (an ESTIMATE, not a measurement): the locations study on GPT-2 small (\`oocr dataset locations\`, seed 0: ${ds.train.length} train, ${ds.eval.length} eval + ${ds.sideEffects.length} side-effect examples)\n`);
  w(`    LoRA ${STUDY.steps} steps + ${STUDY.steerRuns} steering runs × ${STUDY.steps} steps at batch ${STUDY.batch}; per run ${evalsPerRun} curve evaluations of ${curveRows} examples (≤ ${STUDY.evalSamples} per label: step 1, every ${STUDY.logEvery}) + a final one of ${heldout.length}; analysis: ${STUDY.analysisEvals} evaluations of ${heldout.length} + ${deltaSeqs} delta forwards\n`);
  w(`    tokens: GPT-2's tokenizer is not on this machine (no downloads), so ~${tpe} tokens per example and ~${STUDY.completionTokens} completion tokens are ASSUMED (mean characters: train ${chars(ds.train).toFixed(0)}, eval ${chars(ds.eval).toFixed(0)}, side effects ${chars(ds.sideEffects).toFixed(0)}); padding to a batch's longest is ignored\n`);
  w(`    ${'part'.padEnd(40)} ${'TFLOP'.padStart(7)} ${`here (${ft.backend})`.padStart(13)} ${'GPU estimate'.padStart(13)} ${'kernels'.padStart(9)}\n`);
  const line = (label: string, k: keyof typeof studyFlops | null): void => {
    const fl = k ? studyFlops[k] : sum(studyFlops);
    const a = k ? here[k] : sum(here);
    const b = k ? gpuT[k] : sum(gpuT);
    const n = k ? launches[k] : sum(launches);
    w(`    ${label.padEnd(40)} ${(fl / 1e12).toFixed(1).padStart(7)} ${fmtMin(a).padStart(13)} ${fmtMin(b).padStart(13)} ${n.toLocaleString('en-US').padStart(9)}\n`);
  };
  line(`LoRA training (${STUDY.steps} × ${stepTokens} tokens)`, 'lora');
  line(`steering training (${STUDY.steerRuns} × ${STUDY.steps} × ${stepTokens} tokens)`, 'steer');
  line(`evaluations (${evalRows} sequences)`, 'evals');
  line(`analysis (${STUDY.analysisEvals * heldout.length + deltaSeqs} sequences)`, 'analysis');
  line('total', null);
  w(`    here: the analytic FLOPs at the GFLOP/s this backend measured above on the same kind of step (LoRA, steering, forward)\n`);
  w(`    GPU: assumed ${GPU.tflops} TFLOP/s effective (${GPU.label}) plus ${GPU.usPerKernel} µs per kernel launch × the launches counted at the study's batch sizes\n`);
}

function python(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync('python3', [path.join(ROOT, 'bench/models_numpy.py'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 16 * MB });
  if (r.status !== 0) throw new Error(`models_numpy.py ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').pop() ?? '';
}

function runChild(dir: string, profile: boolean): ChildResult {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/run-ts.mjs'), path.join(ROOT, 'bench/models-bench.ts'), '--child', dir, ...(profile ? ['--profile'] : [])], {
    encoding: 'utf8',
    maxBuffer: 16 * MB,
  });
  if (r.status !== 0) throw new Error(`bench child for ${dir} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
}

/** Load, memory and forward latency of one model beside numpy (the table of docs/performance.md). */
function reportForward(name: string, label: string, dir: string, profile: boolean): void {
  const ts = runChild(dir, profile);
  const np = JSON.parse(python(['time', dir, ...LENGTHS.map(String)])) as { ms: Record<string, number> };
  const np1 = JSON.parse(python(['time', dir, ...LENGTHS.map(String)], { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' })) as { ms: Record<string, number> };
  const f32 = ts.float32Bytes / MB;
  process.stdout.write(`\n${name}: ${label}; ${(ts.params / 1e6).toFixed(1)}M parameters, float32 ${f32.toFixed(0)} MB, backend ${ts.backend}\n`);
  process.stdout.write(`  load ${(ts.loadMs / 1000).toFixed(2)} s; peak RSS after load ${(ts.peakRssAfterLoad / MB).toFixed(0)} MB = ${(ts.peakRssAfterLoad / ts.float32Bytes).toFixed(2)}× float32 (process baseline before load ${(ts.baselineRss / MB).toFixed(0)} MB; above it ${((ts.peakRssAfterLoad - ts.baselineRss) / ts.float32Bytes).toFixed(2)}×); peak with forwards ${(ts.peakRss / MB).toFixed(0)} MB = ${(ts.peakRss / ts.float32Bytes).toFixed(2)}× (above baseline ${((ts.peakRss - ts.baselineRss) / ts.float32Bytes).toFixed(2)}×)\n`);
  const [t0, b0] = ts.tensors.afterLoad;
  const [t1, b1] = ts.tensors.afterForwards;
  process.stdout.write(`  tf.memory after load ${t0} tensors / ${(b0 / MB).toFixed(0)} MB, after all forwards ${t1} / ${(b1 / MB).toFixed(0)} MB${t1 - t0 > 1 || b1 > b0 + 1e6 ? ' (GROWS: a leak)' : ' (flat)'}\n`);
  process.stdout.write(`  wasm/backend matmul peak in this run: ${ts.matmulGflops.toFixed(1)} GFLOP/s ([256, d_model]·[d_model, d_mlp], weights packed once); "of peak" = forward GFLOP/s ÷ that\n`);
  process.stdout.write(`  ${'tokens'.padStart(8)} ${'GFLOP'.padStart(7)} ${'tfjs ms'.padStart(9)} ${'GFLOP/s'.padStart(8)} ${'of peak'.padStart(8)} ${'numpy ms'.padStart(9)} ${'tfjs/numpy'.padStart(11)} ${'numpy 1-thread ms'.padStart(18)} ${'tfjs/numpy1'.padStart(12)}\n`);
  for (const T of LENGTHS) {
    const t = ts.forwardMs[T];
    const n = np.ms[T];
    const n1 = np1.ms[T];
    process.stdout.write(
      `  ${String(T).padStart(8)} ${ts.gflop[T].toFixed(1).padStart(7)} ${t.toFixed(0).padStart(9)} ${(ts.gflop[T] / (t / 1000)).toFixed(1).padStart(8)} ${`${((100 * ts.gflop[T]) / (t / 1000) / ts.matmulGflops).toFixed(0)}%`.padStart(8)} ${n.toFixed(0).padStart(9)} ${(t / n).toFixed(2).padStart(11)} ${n1.toFixed(0).padStart(18)} ${(t / n1).toFixed(2).padStart(12)}\n`,
    );
  }
  const Tmax = LENGTHS[LENGTHS.length - 1];
  const npRate = ts.gflop[Tmax] / (np.ms[Tmax] / 1000);
  const np1Rate = ts.gflop[Tmax] / (np1.ms[Tmax] / 1000);
  process.stdout.write(
    `  ceiling at ${Tmax} tokens: numpy runs ${npRate.toFixed(0)} GFLOP/s (1 thread ${np1Rate.toFixed(0)}); even at the backend's matmul peak the forward would be ${(npRate / ts.matmulGflops).toFixed(1)}× numpy (${(np1Rate / ts.matmulGflops).toFixed(1)}× 1-thread)\n`,
  );
  if (ts.profile) {
    process.stdout.write(`  kernels of one 64-token forward (tf.profile):\n`);
    for (const k of ts.profile) process.stdout.write(`    ${k.kernel.padEnd(22)} ${k.ms.toFixed(1).padStart(8)} ms  ${String(k.calls).padStart(4)} calls\n`);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--child');
  if (at >= 0) return child(args[at + 1], args.includes('--profile'));
  const ftAt = args.indexOf('--child-finetune');
  if (ftAt >= 0) return finetuneChild(args[ftAt + 1]);
  const profile = args.includes('--profile');
  const finetuneOnly = args.includes('--finetune-only');
  const noFinetune = args.includes('--no-finetune');
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
  const keep = args.includes('--keep') ? args[args.indexOf('--keep') + 1] : null;
  const tmp = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-models-bench-'));
  process.stdout.write(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  try {
    for (const [name, kind, label] of [
      ['gpt2-small', 'gpt2', 'GPT-2 small shape (F32 on disk, tied unembedding)'],
      ['pythia-160m', 'pythia', 'Pythia-160M shape (F16 on disk, rotary, parallel blocks)'],
    ] as const) {
      if (only && only !== kind) continue;
      const dir = path.join(tmp, name);
      if (!fs.existsSync(path.join(dir, 'model.safetensors'))) python(['write', dir, kind]);
      if (!finetuneOnly) reportForward(name, label, dir, profile);
      if (kind === 'gpt2' && !noFinetune) {
        if (finetuneOnly) process.stdout.write(`\n${name}: ${label}`);
        reportFinetune(dir, readHfModelConfig(dir).config);
      }
    }
  } finally {
    if (!keep) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
