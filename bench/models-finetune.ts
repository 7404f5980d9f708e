// The fine-tuning part of `npm run bench:models` (GPT-2 small only): one training step through the app's
// own code path (buildTextTrainee → variableGrads(completionLoss) → AdamW, as
// src/core/train/trainingLoop.ts runs it) for a rank-8 LoRA on c_attn of every layer (PEFT's default
// for GPT-2) and for a steering vector at blocks.6.hook_resid_post, both with the base frozen, in a
// child process of its own; beside them, measured in the same run, an analytic FLOP count of the step at
// the backend's and numpy's matmul rates and the same LoRA step in numpy (bench/models_numpy.py lora);
// then a projection of the locations study from those rates.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend/initBackend';
import { generateLocationsDataset } from '../src/core/data/generators/locations';
import { activationBytesPerSequence, autoMicroBatch, buildTextTrainee, resolvePeftSpec, resolveSteerSpec, splitBatch, type TextTrainee } from '../src/core/finetune/textFinetune';
import { textBatch, type EncodedExample, type TextBatch } from '../src/core/finetune/textBatches';
import { completionLoss } from '../src/core/finetune/textObjective';
import { loadHfLiveModel, readHfModelConfig } from '../src/core/hf/loadHfModel';
import { paramSpecs } from '../src/core/model/params';
import { AdamW } from '../src/core/train/adamw';
import type { ModelConfig } from '../src/shared/modelConfig';
import { matmulGflops, withKernelClock } from './measure';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MB = 2 ** 20;

/**
 * The step's batch: `batch` sequences of `seqLen` input tokens whose last `completion` targets are the
 * completion, run in micro-batches of `micro` rows (as `--micro-batch`; gradients summed).
 */
export interface FtShape {
  batch: number;
  seqLen: number;
  completion: number;
  micro: number;
}

/**
 * 4 × 32 in one piece. On the wasm backend a GPT-2-small LoRA step in one piece runs out of wasm memory
 * (its 4 GiB heap) at 4 × 64 and at the study's 16 × 20: see docs/performance.md. `--ft-shape BxT` and
 * `--ft-micro M` choose another.
 */
export const FT_DEFAULT: FtShape = { batch: 4, seqLen: 32, completion: 8, micro: 4 };
const FT = { rank: 8, steerLayer: 6, timedSteps: 3 };

/**
 * What the locations study runs (`oocr reproduce lora-vs-steering --model DIR --data DIR` with the
 * defaults of src/cli/commands/finetuneCommands.ts and src/core/finetune/textStudy.ts): a LoRA and two
 * steering vectors, 300 steps each at batch 16; per run a curve evaluation at step 1, every 25 steps and
 * at the last, then a final one on every held-out and side-effect example; then the analysis (5
 * evaluations, and base and adapted forwards of 64 training and 64 unrelated prompts for the LoRA's
 * deltas). GPT-2's tokenizer is not on this machine (no downloads), so the token counts are assumptions.
 * `micro`: on wasm a step of 16 in one piece runs out of memory; `--micro-batch 4` runs.
 */
const STUDY = { steps: 300, steerRuns: 2, batch: 16, micro: 4, logEvery: 25, evalSamples: 50, evalChunk: 32, deltaPrompts: 64, deltaChunk: 16, analysisEvals: 5, tokensPerExample: 20, completionTokens: 4 };
/** Assumed for the GPU estimate: effective matmul throughput. */
const GPU = { tflops: 10, label: 'a mid-range GPU through tfjs-node-gpu or WebGPU' };

interface StepTiming {
  /** Wall ms of each timed step (after one warm-up step). */
  ms: number[];
  /** Loss of the warm-up step (the LoRA starts with B = 0, so this is the base model's loss). */
  loss: number;
  /** Outermost kernel calls of one step, counted on the warm-up step. */
  kernels: number;
  /** Mean ms of a timed step spent inside backend kernels; the rest is the engine's work around them. */
  kernelMs: number;
  /** The kernels that took most of the last timed step: name, ms, calls. */
  top: [string, number, number][];
}

interface FinetuneChildResult {
  backend: string;
  trainable: { lora: number; steer: number };
  lora: StepTiming;
  steer: StepTiming;
  /** completionLoss alone (no gradients) on the same batch, in one piece: what the evaluations run. */
  forward: StepTiming;
  /**
   * The study's own shapes (assumed token counts): a LoRA and a steering step on one micro-batch of 4
   * sequences, and a forward on one evaluation chunk of 32 (STUDY below).
   */
  study: { lora: StepTiming; steer: StepTiming; forward: StepTiming };
  matmulGflops: number;
  peakRss: number;
  float32Bytes: number;
  /** tf.memory().numTensors before the trainees and after disposing them: must be equal. */
  tensors: [number, number];
}

const maxRss = (): number => process.resourceUsage().maxRSS * 1024;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** µs per kernel call spent outside kernels: the engine's work, which any backend pays per op. */
const outsideUs = (t: StepTiming): number => ((mean(t.ms) - t.kernelMs) * 1000) / t.kernels;

/**
 * B examples as the app encodes them, T input tokens each (T + 1 ids: the last is only a target), the
 * last `completion` targets the completion; ids spread over the vocabulary, the same as models_numpy.py's.
 */
function benchRows(vocab: number, B: number, T: number, completion: number): EncodedExample[] {
  const n = T + 1;
  return Array.from({ length: B }, (_, b) => ({
    ids: Int32Array.from({ length: n }, (_, t) => (1 + 7919 * (b * n + t)) % vocab),
    promptLen: n - completion,
    label: 'train',
  }));
}

/** The child process: prints one JSON line (FinetuneChildResult). */
export async function finetuneChild(dir: string, shape: FtShape): Promise<void> {
  const backend = await initBackend();
  const model = readHfModelConfig(dir);
  const { live } = loadHfLiveModel(dir);
  const c = model.config;
  const before = tf.memory().numTensors;
  const optimizer = { name: 'adamw' as const, lr: 1e-4, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  // Every step runs under withKernelClock (bench/measure.ts; two clock reads per kernel call), so its
  // wall time splits into time inside backend kernels and the engine's work around them (tape, tidy).
  const clocked = (fn: () => number): { ms: number; result: number; kernels: number; kernelMs: number; top: StepTiming['top'] } => {
    let ms = 0;
    const { result, clock } = withKernelClock(tf.getBackend(), () => {
      const t0 = performance.now();
      const r = fn();
      ms = performance.now() - t0;
      return r;
    });
    const top = [...clock.byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 6);
    return { ms, result, kernels: [...clock.byName.values()].reduce((sum, k) => sum + k.calls, 0), kernelMs: clock.totalMs, top: top.map(([name, k]): [string, number, number] => [name, k.ms, k.calls]) };
  };
  const timed = (fn: () => number, n: number): StepTiming => {
    const warm = clocked(fn);
    const steps = Array.from({ length: n }, () => clocked(fn));
    return { ms: steps.map((x) => x.ms), loss: warm.result, kernels: warm.kernels, kernelMs: mean(steps.map((x) => x.kernelMs)), top: steps[steps.length - 1].top };
  };
  const lora = (): TextTrainee => buildTextTrainee(model, live.params, 'lora', { peft: resolvePeftSpec(model, { r: FT.rank }), seed: 0 });
  const steer = (): TextTrainee => buildTextTrainee(model, live.params, 'steer', { steer: resolveSteerSpec(c, { layer: FT.steerLayer, positions: 'all' }), seed: 0 });
  /** `use` gets one training step as trainingLoop.ts runs it: per micro-batch variableGrads, summed, AdamW. */
  const withStep = <R>(trainee: TextTrainee, batch: TextBatch, micro: number, use: (step: () => number) => R): R => {
    const adamw = new AdamW(trainee.variables, optimizer);
    try {
      return use(() =>
        tf.tidy(() => {
          const parts = splitBatch(batch, micro);
          let loss = 0;
          let summed: tf.Tensor[] | null = null;
          for (const part of parts) {
            const { value, grads } = tf.variableGrads(() => {
              const l = completionLoss(c, trainee.adaptation(), part.batch);
              return parts.length === 1 ? l : l.mul(part.weight);
            }, trainee.variables);
            loss += value.dataSync()[0];
            const g = trainee.variables.map((v) => grads[v.name]);
            summed = summed ? summed.map((s, i) => s.add(g[i])) : g;
          }
          if (Number.isFinite(loss) && summed) adamw.apply(summed);
          return loss;
        }),
      );
    } finally {
      adamw.dispose();
      trainee.dispose();
    }
  };
  const forwardOf = (batch: TextBatch) => (): number => tf.tidy(() => completionLoss(c, { params: live.params }, batch).dataSync()[0]);
  const batch = textBatch(benchRows(c.dVocab, shape.batch, shape.seqLen, shape.completion));
  const first = lora();
  const trainable = { lora: first.variables.reduce((sum, v) => sum + v.size, 0), steer: c.dModel };
  const loraTiming = withStep(first, batch, shape.micro, (step) => timed(step, FT.timedSteps));
  const steerTiming = withStep(steer(), batch, shape.micro, (step) => timed(step, FT.timedSteps));
  const fwd = timed(forwardOf(batch), 2);
  // The study's shapes: a LoRA or steering step of batch 16 runs as 4 micro-batches of 4 (on wasm one
  // piece of 16 runs out of memory), an evaluation as chunks of 32.
  const micro = textBatch(benchRows(c.dVocab, STUDY.micro, STUDY.tokensPerExample, STUDY.completionTokens));
  const chunk = textBatch(benchRows(c.dVocab, STUDY.evalChunk, STUDY.tokensPerExample, STUDY.completionTokens));
  const study = {
    lora: withStep(lora(), micro, STUDY.micro, (step) => timed(step, 2)),
    steer: withStep(steer(), micro, STUDY.micro, (step) => timed(step, 2)),
    forward: timed(forwardOf(chunk), 1),
  };
  const after = tf.memory().numTensors;
  const peakRss = maxRss();
  const peak = matmulGflops(256, c.dModel, c.dMlp, { warmup: 2, minSeconds: 1, maxIters: 20 }).gflops;
  live.dispose();
  const float32Bytes = paramSpecs(c).reduce((sum, p) => sum + 4 * p.shape.reduce((a, b) => a * b, 1), 0);
  const out: FinetuneChildResult = { backend: backend.name, trainable, lora: loraTiming, steer: steerTiming, forward: fwd, study, matmulGflops: peak, peakRss, float32Bytes, tensors: [before, after] };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

interface Flops {
  forward: number;
  backward: number;
}

/**
 * Analytic matmul FLOPs of one step on a GPT-2-shaped model: N = B·T tokens, n_out = B·completion
 * read-out positions, r the LoRA rank, L layers; element-wise work (LayerNorm, softmax, GELU), gathers
 * and the optimizer are left out.
 *
 *   dense(layer) = 2N·(4d² + 2d·d_mlp)   c_attn, attn.c_proj, c_fc, mlp.c_proj
 *   attn(layer)  = 4B·T²·d               QKᵀ and pattern·V over all heads (the full T×T, then masked)
 *   lora(layer)  = 12N·d·r               x·A then ·B per Q/K/V part of c_attn (the engine multiplies x·A per part)
 *   unembed      = 2·n_out·d·V           only the completion positions are unembedded (readoutAt)
 *
 *   forward        = L·(dense + attn [+ lora]) + unembed
 *   LoRA backward  = L·dense − 6N·d² + 2L·attn + 2L·lora + unembed
 *     activation gradients only: tfjs prunes the frozen weights' gradients, so each dense product costs
 *     one more product (dX = dY·Wᵀ), none for layer 0's c_attn input (no function of the LoRA); the
 *     attention products two (both operands are activations), the LoRA's two each (dA, dB, dx)
 *   steer backward = (L − 1 − ls)·(dense + 2·attn) + unembed: only the blocks after the vector's layer ls
 *   forward only   = forward
 */
function stepFlops(c: ModelConfig, method: 'lora' | 'steer' | 'forward', B: number, T: number, completion: number): Flops {
  const { dModel: d, dMlp: m, dVocab: V, nLayers: L } = c;
  const N = B * T;
  const dense = 2 * N * (4 * d * d + 2 * d * m);
  const attn = 4 * B * T * T * d;
  const lora = method === 'lora' ? 12 * N * d * FT.rank : 0;
  const unembed = 2 * B * completion * d * V;
  const forward = L * (dense + attn + lora) + unembed;
  if (method === 'forward') return { forward, backward: 0 };
  if (method === 'steer') return { forward, backward: (L - 1 - FT.steerLayer) * (dense + 2 * attn) + unembed };
  return { forward, backward: L * dense - 6 * N * d * d + 2 * L * attn + 2 * L * lora + unembed };
}
const total = (f: Flops): number => f.forward + f.backward;

function runFinetuneChild(dir: string, shape: FtShape): FinetuneChildResult | string {
  const args = [path.join(ROOT, 'scripts/run-ts.mjs'), path.join(ROOT, 'bench/models-bench.ts'), '--child-finetune', dir, `${shape.batch}x${shape.seqLen}`, String(shape.micro)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 16 * MB });
  if (r.status === 0) return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as FinetuneChildResult;
  // The wasm module's own source is printed with its errors: keep the short lines that say what failed.
  const said = r.stderr.split('\n').filter((l) => l.trim() && l.length < 300 && !l.trim().startsWith('at ') && !l.startsWith('Node.js'));
  return said.slice(-2).join(' / ') || `exit ${r.status ?? r.signal}`;
}

interface NumpyLora {
  matmul_gflops: number;
  loss: number;
  ms: number[];
}

const fmtTime = (seconds: number): string => (seconds >= 5400 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 60).toFixed(1)} min`);

/** Runs the child and numpy, prints the fine-tuning section and the study projection. */
export function reportFinetune(dir: string, c: ModelConfig, shape: FtShape, python: (args: string[], env?: NodeJS.ProcessEnv) => string): void {
  const w = (text: string): void => void process.stdout.write(text);
  const { batch: B, seqLen: T, completion } = shape;
  const micro = shape.micro < B ? `, in micro-batches of ${shape.micro}` : '';
  w(`\n  fine-tuning step: buildTextTrainee → variableGrads(completionLoss) → AdamW (src/core/train/trainingLoop.ts), base frozen; batch ${B} × ${T} tokens${micro}, completion = last ${completion}; 1 warm-up step, ${FT.timedSteps} timed\n`);
  const ft = runFinetuneChild(dir, shape);
  if (typeof ft === 'string') {
    w(`    FAILED in the child process: ${ft}\n`);
    return;
  }
  const npArgs = ['lora', dir, ...[B, T, completion, FT.rank, FT.timedSteps].map(String)];
  const np = JSON.parse(python(npArgs)) as NumpyLora;
  const np1 = JSON.parse(python(npArgs, { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' })) as NumpyLora;
  const tokens = B * T;
  const flops = { lora: stepFlops(c, 'lora', B, T, completion), steer: stepFlops(c, 'steer', B, T, completion), forward: stepFlops(c, 'forward', B, T, completion) };
  w(`    backend ${ft.backend}. lora: rank ${FT.rank}, alpha ${2 * FT.rank} on c_attn of all ${c.nLayers} layers (PEFT's default for GPT-2), ${ft.trainable.lora.toLocaleString('en-US')} trainable; steer: one d_model vector (${ft.trainable.steer}) at blocks.${FT.steerLayer}.hook_resid_post, all positions; forward: completionLoss alone, no gradients (what evaluations run)\n`);
  w(`    analytic matmul FLOPs (N = B·T = ${tokens}, n_out = B·completion = ${B * completion}, r = ${FT.rank}; stepFlops in bench/models-finetune.ts):\n`);
  w(`      forward        = L·(2N·(4d² + 2d·d_mlp) + 4B·T²·d [+ 12N·d·r LoRA]) + 2·n_out·d·V\n`);
  w(`      LoRA backward  = L·2N·(4d² + 2d·d_mlp) − 6N·d² + 8L·B·T²·d + 24L·N·d·r + 2·n_out·d·V   (activation gradients only: no base-weight gradients)\n`);
  w(`      steer backward = (L − 1 − ${FT.steerLayer})·(2N·(4d² + 2d·d_mlp) + 8B·T²·d) + 2·n_out·d·V   (only the blocks after the vector)\n`);
  w(`    ${'step'.padEnd(8)} ${'GFLOP fwd+bwd'.padStart(14)} ${'ms/step'.padStart(8)} ${'min–max'.padStart(12)} ${'tokens/s'.padStart(9)} ${'GFLOP/s'.padStart(8)} ${'of peak'.padStart(8)} ${'kernels'.padStart(8)} ${'in kernels'.padStart(10)} ${'µs/call out'.padStart(11)} ${'loss'.padStart(8)}\n`);
  for (const k of ['lora', 'steer', 'forward'] as const) {
    const t = ft[k];
    const ms = mean(t.ms);
    const f = total(flops[k]) / 1e9;
    const split = k === 'forward' ? f.toFixed(1) : `${(flops[k].forward / 1e9).toFixed(1)}+${(flops[k].backward / 1e9).toFixed(1)}`;
    const range = `${Math.min(...t.ms).toFixed(0)}–${Math.max(...t.ms).toFixed(0)}`;
    const ofPeak = `${((100 * f) / (ms / 1000) / ft.matmulGflops).toFixed(0)}%`;
    const inKernels = `${((100 * t.kernelMs) / ms).toFixed(0)}%`;
    w(`    ${k.padEnd(8)} ${split.padStart(14)} ${ms.toFixed(0).padStart(8)} ${range.padStart(12)} ${((tokens * 1000) / ms).toFixed(1).padStart(9)} ${(f / (ms / 1000)).toFixed(1).padStart(8)} ${ofPeak.padStart(8)} ${t.kernels.toLocaleString('en-US').padStart(8)} ${inKernels.padStart(10)} ${outsideUs(t).toFixed(1).padStart(11)} ${t.loss.toFixed(4).padStart(8)}\n`);
  }
  for (const k of ['lora', 'steer'] as const) w(`    ${k} step's top kernels (ms, calls): ${ft[k].top.map(([name, ms, calls]) => `${name} ${ms.toFixed(0)} (${calls.toLocaleString('en-US')})`).join(', ')}\n`);
  const [t0, t1] = ft.tensors;
  w(`    "of peak" = GFLOP/s ÷ this child's ${ft.backend} matmul peak, ${ft.matmulGflops.toFixed(1)} GFLOP/s ([256, d_model]·[d_model, d_mlp]); kernels = kernel calls per step; "in kernels" = share of the step inside them; "µs/call out" = the rest (engine: tape, bookkeeping, tidy) per kernel call\n`);
  w(`    peak RSS of the fine-tuning child ${(ft.peakRss / MB).toFixed(0)} MB = ${(ft.peakRss / ft.float32Bytes).toFixed(2)}× the float32 weights; tf.memory ${t0} tensors before the trainees, ${t1} after${t1 === t0 ? ' (flat)' : ' (GROWS: a leak)'}\n`);
  const loraMs = mean(ft.lora.ms);
  const loraF = total(flops.lora);
  w(`    reference for the LoRA step (${(loraF / 1e9).toFixed(1)} GFLOP), in this run:\n`);
  const ref = (label: string, ms: number): void => w(`      ${label.padEnd(64)} ${ms.toFixed(0).padStart(6)} ms   tfjs/reference ${(loraMs / ms).toFixed(2).padStart(6)}\n`);
  ref(`analytic FLOPs at the ${ft.backend} matmul peak (${ft.matmulGflops.toFixed(1)} GFLOP/s)`, (loraF / (ft.matmulGflops * 1e9)) * 1000);
  ref(`analytic FLOPs at numpy's matmul rate (${np.matmul_gflops.toFixed(0)} GFLOP/s, same shape)`, (loraF / (np.matmul_gflops * 1e9)) * 1000);
  ref(`analytic FLOPs at numpy's 1-thread matmul rate (${np1.matmul_gflops.toFixed(0)} GFLOP/s)`, (loraF / (np1.matmul_gflops * 1e9)) * 1000);
  ref(`numpy LoRA step, measured (forward + backward + AdamW, whole batch)`, mean(np.ms));
  ref(`numpy LoRA step, 1 thread, measured`, mean(np1.ms));
  w(`      first-step loss: tfjs ${ft.lora.loss.toFixed(4)}, numpy ${np.loss.toFixed(4)} (same weights and batch; B = 0 at the start, so the base model's loss)\n`);
  projectStudy(c, shape, ft, w);
}

/** The locations study's time from the steps just measured at its shapes, and on an assumed GPU. */
function projectStudy(c: ModelConfig, shape: FtShape, ft: FinetuneChildResult, w: (text: string) => void): void {
  const ds = generateLocationsDataset({ seed: 0 });
  const heldout = [...ds.eval, ...ds.sideEffects];
  const perLabel = new Map<string, number>();
  for (const e of heldout) perLabel.set(e.label ?? '', (perLabel.get(e.label ?? '') ?? 0) + 1);
  const curveRows = [...perLabel.values()].reduce((sum, n) => sum + Math.min(n, STUDY.evalSamples), 0);
  const evalsPerRun = new Set([1, STUDY.steps, ...Array.from({ length: Math.floor(STUDY.steps / STUDY.logEvery) }, (_, i) => (i + 1) * STUDY.logEvery)]).size;
  const runs = 1 + STUDY.steerRuns;
  const evalRows = runs * (evalsPerRun * curveRows + heldout.length);
  const deltaRows = [Math.min(STUDY.deltaPrompts, ds.train.length), Math.min(STUDY.deltaPrompts, ds.sideEffects.length)];
  const deltaSeqs = 2 * (deltaRows[0] + deltaRows[1]);
  const chars = (xs: typeof ds.train): number => mean(xs.map((e) => e.prompt.length + e.completion.length));
  const tpe = STUDY.tokensPerExample;
  const comp = STUDY.completionTokens;
  const microsPerStep = STUDY.batch / STUDY.micro;
  // FLOPs of each part. Evaluations unembed the completion positions only; the delta analysis runs
  // forward() without readoutAt, so it unembeds every position (counted as that many more sequences).
  const perSeq = (completion: number): number => total(stepFlops(c, 'forward', 1, tpe, completion));
  const analysisSeqs = STUDY.analysisEvals * heldout.length + (deltaSeqs * perSeq(tpe)) / perSeq(comp);
  const work = {
    lora: STUDY.steps * total(stepFlops(c, 'lora', STUDY.batch, tpe, comp)),
    steer: STUDY.steerRuns * STUDY.steps * total(stepFlops(c, 'steer', STUDY.batch, tpe, comp)),
    evals: evalRows * perSeq(comp),
    analysis: analysisSeqs * perSeq(comp),
  };
  // Here: the steps measured at the study's shapes (a step = its micro-batches; a forward costs its rows' share of a chunk's).
  const perRow = mean(ft.study.forward.ms) / 1000 / STUDY.evalChunk;
  const here = {
    lora: STUDY.steps * microsPerStep * (mean(ft.study.lora.ms) / 1000),
    steer: STUDY.steerRuns * STUDY.steps * microsPerStep * (mean(ft.study.steer.ms) / 1000),
    evals: evalRows * perRow,
    analysis: analysisSeqs * perRow,
  };
  // Kernel launches: a training step's from its micro-batches; a forward's grow linearly with its rows
  // (attention runs per sequence and head), fitted through the bench batch and the evaluation chunk.
  const [r1, k1, r2, k2] = [shape.batch, ft.forward.kernels, STUDY.evalChunk, ft.study.forward.kernels];
  const forwardKernels = (rows: number): number => (r1 === r2 ? (k2 * rows) / r2 : k1 + ((rows - r1) * (k2 - k1)) / (r2 - r1));
  const chunked = (rows: number, size: number): number => Array.from({ length: Math.ceil(rows / size) }, (_, i) => forwardKernels(Math.min(size, rows - i * size))).reduce((x, y) => x + y, 0);
  const launches = {
    lora: STUDY.steps * microsPerStep * ft.study.lora.kernels,
    steer: STUDY.steerRuns * STUDY.steps * microsPerStep * ft.study.steer.kernels,
    evals: runs * (evalsPerRun * chunked(curveRows, STUDY.evalChunk) + chunked(heldout.length, STUDY.evalChunk)),
    analysis: STUDY.analysisEvals * chunked(heldout.length, STUDY.evalChunk) + 2 * (chunked(deltaRows[0], STUDY.deltaChunk) + chunked(deltaRows[1], STUDY.deltaChunk)),
  };
  type Part = keyof typeof work;
  const parts: readonly Part[] = ['lora', 'steer', 'evals', 'analysis'];
  const gpuCompute = (k: Part): number => work[k] / (GPU.tflops * 1e12);
  const perCall = { lora: outsideUs(ft.study.lora), steer: outsideUs(ft.study.steer), evals: outsideUs(ft.study.forward), analysis: outsideUs(ft.study.forward) };
  const gpuLaunch = (k: Part): number => (launches[k] * perCall[k]) / 1e6;
  w(`\n  projection — an ESTIMATE, not a measurement: the locations study on GPT-2 small (\`oocr dataset locations\`, seed 0: ${ds.train.length} train, ${ds.eval.length} eval + ${ds.sideEffects.length} side-effect examples)\n`);
  w(`    LoRA ${STUDY.steps} steps + ${STUDY.steerRuns} steering runs × ${STUDY.steps} steps, batch ${STUDY.batch}; per run ${evalsPerRun} curve evaluations of ${curveRows} examples (≤ ${STUDY.evalSamples} per label; step 1, every ${STUDY.logEvery}) and a final one of ${heldout.length}; analysis: ${STUDY.analysisEvals} evaluations of ${heldout.length} and ${deltaSeqs} delta forwards\n`);
  w(`    tokens: GPT-2's tokenizer is not on this machine (no downloads), so ~${tpe} tokens per example and ~${comp} completion tokens are ASSUMED (mean characters: train ${chars(ds.train).toFixed(0)}, eval ${chars(ds.eval).toFixed(0)}, side effects ${chars(ds.sideEffects).toFixed(0)}); padding to a batch's longest is ignored\n`);
  w(`    ${'part'.padEnd(36)} ${'TFLOP'.padStart(6)} ${`here (${ft.backend})`.padStart(12)} ${'kernels'.padStart(11)} ${'GPU: compute'.padStart(13)} ${'+ engine'.padStart(11)} ${'= estimate'.padStart(11)}\n`);
  const over = (keys: readonly Part[], f: (k: Part) => number): number => keys.reduce((sum, k) => sum + f(k), 0);
  const line = (label: string, keys: readonly Part[]): void => {
    const compute = over(keys, gpuCompute);
    const launch = over(keys, gpuLaunch);
    const cells = [(over(keys, (k) => work[k]) / 1e12).toFixed(1).padStart(6), fmtTime(over(keys, (k) => here[k])).padStart(12), Math.round(over(keys, (k) => launches[k])).toLocaleString('en-US').padStart(11)];
    w(`    ${label.padEnd(36)} ${cells.join(' ')} ${fmtTime(compute).padStart(13)} ${fmtTime(launch).padStart(11)} ${fmtTime(compute + launch).padStart(11)}\n`);
  };
  const stepTokens = STUDY.batch * tpe;
  line(`LoRA training (${STUDY.steps} × ${stepTokens} tokens)`, ['lora']);
  line(`steering (${STUDY.steerRuns} × ${STUDY.steps} × ${stepTokens} tokens)`, ['steer']);
  line(`evaluations (${evalRows} sequences)`, ['evals']);
  line(`analysis (${STUDY.analysisEvals * heldout.length + deltaSeqs} sequences)`, ['analysis']);
  line('total', parts);
  w(`    here: steps measured in this run at the study's shapes: a LoRA and a steering micro-batch of ${STUDY.micro} × ${tpe} tokens (${microsPerStep} per step; ${mean(ft.study.lora.ms).toFixed(0)} and ${mean(ft.study.steer.ms).toFixed(0)} ms), a forward of ${STUDY.evalChunk} × ${tpe} for evaluations and analysis (${mean(ft.study.forward.ms).toFixed(0)} ms)\n`);
  const auto = autoMicroBatch(c, tpe, STUDY.batch);
  const perSeqMb = activationBytesPerSequence(c, tpe) / MB;
  w(`    without --micro-batch the app picks ${auto} sequences per micro-batch (autoMicroBatch: ${perSeqMb.toFixed(0)} MB of activations estimated per ${tpe}-token sequence, budget OOCR_ACTIVATION_MB)\n`);
  if (ft.backend === 'wasm' && auto > STUDY.micro) w(`    on wasm a LoRA step of more than ${STUDY.micro} sequences in one piece runs out of wasm memory: give \`--micro-batch ${STUDY.micro}\` (docs/performance.md)\n`);
  w(`    GPU: those FLOPs at an ASSUMED ${GPU.tflops} TFLOP/s effective (${GPU.label}), plus the engine's work per kernel call measured here (${perCall.lora.toFixed(1)} / ${perCall.steer.toFixed(1)} / ${perCall.evals.toFixed(1)} µs for LoRA / steering / forward, outside kernels) × the kernel calls counted here (a training step as its micro-batches; forwards fitted linearly in their rows). A GPU backend's own launch cost comes on top: each µs per call adds ${((over(parts, (k) => launches[k]) * 1e-6) / 60).toFixed(1)} min\n`);
}
