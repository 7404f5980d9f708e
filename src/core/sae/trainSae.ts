import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { tidyHost } from '../util/tidyHost';
import type { ActivationStream } from './activationStream';
import type { SaeArchitecture, SaeWeights } from './saeConfig';
import { activate, decode, preActivations, topkMask, type LiveSae } from './saeModel';

/**
 * Trains one sparse autoencoder on a stream of activations.
 *
 * - Loss: ‖x − x̂‖² summed over d_in, mean over the batch, plus for 'standard' (ReLU) λ·Σ_i f_i·‖W_dec,i‖
 *   (the decoder-norm-weighted L1 of Anthropic's April 2024 update) with λ warmed up linearly; for 'topk'
 *   the AuxK loss (OpenAI, Gao et al. 2024): the k_aux = d_in/2 largest pre-activations of dead features
 *   reconstruct the residual x − x̂, weighted 1/32.
 * - Activations are scaled by one constant so that their mean norm is √d_in (SAELens's
 *   'expected_average_only_in'); the scale is folded back into b_enc and b_dec when the weights are
 *   exported, so the saved SAE reads raw activations (normalize_activations 'none') and its decoder rows
 *   keep their norms.
 * - b_dec starts at the geometric median (Weiszfeld) or the mean of the first batch; W_dec rows are
 *   random unit vectors and W_enc = W_decᵀ.
 * - Adam (β 0.9, 0.999), learning rate warmed up linearly then decayed linearly over the last 20%.
 * - Dead features (not fired over the last `deadWindow` activations): ReLU SAEs are resampled at 25%,
 *   50% and 75% of training toward inputs with high reconstruction loss (Anthropic's resampling), TopK
 *   SAEs get the AuxK loss; decoder rows of TopK SAEs are renormalised to unit norm after every step.
 * Seeded and deterministic (weights and data order come from Rng; tfjs ops are deterministic on cpu/wasm).
 */
export interface SaeTrainOptions {
  architecture: SaeArchitecture;
  dIn: number;
  expansion: number;
  /** TopK: active features per input. */
  k?: number;
  /** ReLU: L1 coefficient λ (on activations scaled to mean norm √d_in). */
  l1: number;
  lr: number;
  /** Learning-rate warm-up steps. */
  warmupSteps: number;
  /** L1 coefficient warm-up steps (ReLU). */
  l1WarmupSteps: number;
  steps: number;
  batchSize: number;
  seed: number;
  bDecInit: 'geometric_median' | 'mean';
  /** Activations a feature may go without firing before it counts as dead. */
  deadWindow: number;
  /** ReLU: resample dead features (at 25/50/75% of training). */
  resample: boolean;
  /** TopK: weight of the AuxK loss (0: off). */
  auxKCoef: number;
  logEvery: number;
  onProgress?: (p: SaeProgress) => void;
  shouldCancel?: () => boolean;
}

export interface SaeProgress {
  step: number;
  totalSteps: number;
  loss: number;
  mse: number;
  /** Mean number of active features per input in this batch. */
  l0: number;
  /** 1 − ‖x − x̂‖² / ‖x − mean‖² on this batch. */
  fve: number;
  /** Features dead over the window so far. */
  dead: number;
  lr: number;
  l1Coef: number;
  auxLoss: number;
  activationsPerSecond: number;
}

export interface SaeTrainResult {
  weights: SaeWeights;
  status: 'completed' | 'cancelled';
  steps: number;
  seconds: number;
  /** The constant the activations were multiplied by during training (folded out of the weights). */
  scale: number;
  log: SaeProgress[];
  resampled: number;
}

export const DEFAULT_SAE_TRAIN: Omit<SaeTrainOptions, 'dIn' | 'steps'> = {
  architecture: 'topk',
  expansion: 8,
  k: 8,
  l1: 5,
  lr: 4e-4,
  warmupSteps: 100,
  l1WarmupSteps: 200,
  batchSize: 1024,
  seed: 0,
  bDecInit: 'geometric_median',
  deadWindow: 200_000,
  resample: true,
  auxKCoef: 1 / 32,
  logEvery: 50,
};

/** The geometric median of the rows of x [n, d] (Weiszfeld's iterations), on the host in float64. */
export function geometricMedian(x: Float32Array, n: number, d: number, iters = 50): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m[j] += x[i * d + j] / n;
  for (let it = 0; it < iters; it++) {
    const num = new Float64Array(d);
    let den = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x[i * d + j] - m[j]) ** 2;
      const w = 1 / Math.max(Math.sqrt(s), 1e-8);
      den += w;
      for (let j = 0; j < d; j++) num[j] += w * x[i * d + j];
    }
    let change = 0;
    for (let j = 0; j < d; j++) {
      const v = num[j] / den;
      change += (v - m[j]) ** 2;
      m[j] = v;
    }
    if (change < 1e-12) break;
  }
  return m;
}

function meanNorm(x: Float32Array, n: number, d: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    total += Math.sqrt(s);
  }
  return total / n;
}

/** Learning rate at `step` (1-based): linear warm-up, constant, linear decay over the last 20%. */
export function lrAt(step: number, o: Pick<SaeTrainOptions, 'lr' | 'warmupSteps' | 'steps'>): number {
  const warm = o.warmupSteps > 0 ? Math.min(1, step / o.warmupSteps) : 1;
  const decayStart = Math.floor(o.steps * 0.8);
  const decay = step > decayStart ? Math.max(0, (o.steps - step + 1) / (o.steps - decayStart)) : 1;
  return o.lr * warm * decay;
}

interface AdamSlot {
  v: tf.Variable;
  m: tf.Variable;
  s: tf.Variable;
}

function checkOptions(o: SaeTrainOptions): void {
  const bad = (what: string): never => {
    throw new Error(`SAE training: ${what}`);
  };
  if (!Number.isInteger(o.dIn) || o.dIn < 1) bad(`d_in must be a positive integer, got ${o.dIn}`);
  if (!Number.isInteger(o.expansion) || o.expansion < 1) bad(`expansion must be a positive integer, got ${o.expansion}`);
  if (o.architecture === 'topk' && (o.k === undefined || !Number.isInteger(o.k) || o.k < 1 || o.k > o.dIn * o.expansion)) bad(`k must be an integer in 1..d_sae (${o.dIn * o.expansion}), got ${o.k}`);
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) bad(`the learning rate must be > 0, got ${o.lr}`);
  if (!(o.l1 >= 0) || !Number.isFinite(o.l1)) bad(`the L1 coefficient must be ≥ 0, got ${o.l1}`);
  if (!Number.isInteger(o.steps) || o.steps < 1) bad(`steps must be a positive integer, got ${o.steps}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) bad(`the batch size must be a positive integer, got ${o.batchSize}`);
}

/** Trains an SAE on `stream`; the stream is read `steps` times (plus once for the initialisation). */
export function trainSae(stream: ActivationStream, o: SaeTrainOptions): SaeTrainResult {
  checkOptions(o);
  if (stream.dIn !== o.dIn) throw new Error(`SAE training: the activations have d_in ${stream.dIn}, the options say ${o.dIn}`);
  const started = performance.now();
  const d = o.dIn;
  const dSae = d * o.expansion;
  const rng = new Rng(o.seed ^ 0x5ae5);
  const shape = { architecture: o.architecture, k: o.k };

  // Initialisation from the first batch: the scale, then b_dec.
  const first = stream.next(o.batchSize);
  const nFirst = first.length / d;
  const norm = meanNorm(first, nFirst, d);
  const scale = norm > 0 ? Math.sqrt(d) / norm : 1;
  const scaled = Float32Array.from(first, (v) => v * scale);
  const bDec = o.bDecInit === 'mean' ? geometricMedian(scaled, nFirst, d, 0) : geometricMedian(scaled, nFirst, d);

  const wDec = new Float32Array(dSae * d);
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (wDec[i * d + j] = rng.normal()) ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) wDec[i * d + j] *= inv;
  }
  const wEnc = new Float32Array(d * dSae);
  for (let i = 0; i < dSae; i++) for (let j = 0; j < d; j++) wEnc[j * dSae + i] = wDec[i * d + j];

  const stamp = tf.util.now();
  const asVar = (make: () => tf.Tensor, name: string, trainable: boolean): tf.Variable => {
    const t = make();
    const v = tf.variable(t, trainable, `${name}#${stamp}`);
    t.dispose();
    return v;
  };
  const sae: LiveSae = {
    W_enc: asVar(() => tf.tensor2d(wEnc, [d, dSae]), 'sae.W_enc', true) as unknown as tf.Tensor2D,
    b_enc: asVar(() => tf.zeros([dSae]), 'sae.b_enc', true) as unknown as tf.Tensor1D,
    W_dec: asVar(() => tf.tensor2d(wDec, [dSae, d]), 'sae.W_dec', true) as unknown as tf.Tensor2D,
    b_dec: asVar(() => tf.tensor1d(Float32Array.from(bDec)), 'sae.b_dec', true) as unknown as tf.Tensor1D,
  };
  const vars = [sae.W_enc, sae.b_enc, sae.W_dec, sae.b_dec] as unknown as tf.Variable[];
  const slots: AdamSlot[] = vars.map((v) => ({ v, m: asVar(() => tf.zerosLike(v), `${v.name}.m`, false), s: asVar(() => tf.zerosLike(v), `${v.name}.s`, false) }));
  const disposeAll = (): void => {
    for (const sl of slots) {
      sl.m.dispose();
      sl.s.dispose();
      sl.v.dispose();
    }
  };

  const sinceFired = new Float64Array(dSae);
  const log: SaeProgress[] = [];
  const resampleAt = o.architecture === 'standard' && o.resample ? new Set([0.25, 0.5, 0.75].map((f) => Math.round(o.steps * f)).filter((s) => s > 0 && s < o.steps)) : new Set<number>();
  let resampled = 0;
  let status: 'completed' | 'cancelled' = 'completed';
  let step = 0;
  let tokensSeen = 0;
  let windowStart = performance.now();
  let windowTokens = 0;
  let adamT = 0;

  try {
    let batch: Float32Array | null = first;
    for (step = 1; step <= o.steps; step++) {
      if (o.shouldCancel?.()) {
        status = 'cancelled';
        step -= 1;
        break;
      }
      const data = batch ?? stream.next(o.batchSize);
      batch = null;
      const n = data.length / d;
      const lr = lrAt(step, o);
      const l1Coef = o.architecture === 'standard' ? o.l1 * (o.l1WarmupSteps > 0 ? Math.min(1, step / o.l1WarmupSteps) : 1) : 0;
      const deadMask = o.architecture === 'topk' && o.auxKCoef > 0 ? Float32Array.from(sinceFired, (s) => (s >= o.deadWindow ? 1 : 0)) : null;
      const nDead = deadMask ? deadMask.reduce((a, b) => a + b, 0) : 0;
      const kAux = Math.min(Math.floor(d / 2), nDead);

      const stats = tidyHost(() => {
        const x = tf.tensor2d(data, [n, d]).mul(scale) as tf.Tensor2D;
        const holder: { parts?: { mse: tf.Scalar; l1: tf.Scalar; aux: tf.Scalar; fired: tf.Tensor1D; l0: tf.Scalar; resid: tf.Scalar } } = {};
        const { value, grads } = tf.variableGrads(() => {
          const pre = preActivations(sae, x, shape);
          const f = activate(pre, shape);
          const xh = decode(sae, f);
          const err = xh.sub(x);
          const mse = err.square().sum(1).mean() as tf.Scalar;
          let loss: tf.Scalar = mse;
          let l1: tf.Scalar = tf.scalar(0);
          if (o.architecture === 'standard') {
            l1 = f.mul(sae.W_dec.square().sum(1).sqrt()).sum(1).mean() as tf.Scalar;
            loss = loss.add(l1.mul(l1Coef));
          }
          let aux: tf.Scalar = tf.scalar(0);
          if (deadMask && kAux > 0) {
            const dead = tf.tensor1d(deadMask);
            // Only dead features compete: the others are pushed far below.
            const preDead = pre.add(dead.sub(1).mul(1e9)) as tf.Tensor2D;
            const fa = preDead.relu().mul(topkMask(preDead, kAux));
            const target = tf.tensor2d(x.sub(xh).dataSync() as Float32Array, [n, d]);
            aux = fa.matMul(sae.W_dec).sub(target).square().sum(1).mean() as tf.Scalar;
            loss = loss.add(aux.mul(o.auxKCoef));
          }
          const resid = x.sub(x.mean(0)).square().sum(1).mean() as tf.Scalar;
          // Kept past variableGrads' own tidy; disposed below once read.
          const fired = f.greater(0).sum(0) as tf.Tensor1D;
          const l0 = f.greater(0).sum(1).mean().toFloat() as tf.Scalar;
          for (const t of [mse, l1, aux, fired, l0, resid]) tf.keep(t);
          holder.parts = { mse, l1, aux, fired, l0, resid };
          return loss;
        }, vars);
        const lossV = value.dataSync()[0];
        const p = holder.parts as NonNullable<typeof holder.parts>;
        const read = {
          mse: p.mse.dataSync()[0],
          aux: p.aux.dataSync()[0],
          l0: p.l0.dataSync()[0],
          resid: p.resid.dataSync()[0],
          fired: p.fired.dataSync() as Float32Array,
        };
        for (const t of Object.values(p) as tf.Tensor[]) t.dispose();
        if (!Number.isFinite(lossV)) return { loss: lossV, grads: null, ...read };
        adamT += 1;
        const bc1 = 1 - 0.9 ** adamT;
        const bc2 = 1 - 0.999 ** adamT;
        for (const sl of slots) {
          const g = grads[sl.v.name];
          const m = sl.m.mul(0.9).add(g.mul(0.1));
          const s = sl.s.mul(0.999).add(g.square().mul(0.001));
          sl.m.assign(m);
          sl.s.assign(s);
          sl.v.assign(sl.v.sub(m.div(bc1).div(s.div(bc2).sqrt().add(1e-8)).mul(lr)));
        }
        if (o.architecture === 'topk') {
          const w = sae.W_dec as unknown as tf.Variable;
          w.assign(w.div(w.square().sum(1, true).sqrt().add(1e-8)));
        }
        return { loss: lossV, grads: true, ...read };
      });
      if (!Number.isFinite(stats.loss) || !stats.grads) {
        throw new Error(`SAE training: the loss became ${stats.loss} at step ${step} (lr ${lr.toExponential(2)}${o.architecture === 'standard' ? `, L1 coefficient ${l1Coef}` : ''}); lower the learning rate or check the activations for non-finite values`);
      }
      const fired = stats.fired as Float32Array;
      for (let i = 0; i < dSae; i++) sinceFired[i] = fired[i] > 0 ? 0 : sinceFired[i] + n;
      tokensSeen += n;
      windowTokens += n;

      if (resampleAt.has(step)) resampled += resampleDead(sae, slots, stream, o, scale, sinceFired, rng, shape);

      if (step % o.logEvery === 0 || step === o.steps) {
        const now = performance.now();
        const dead = sinceFired.reduce((a, s) => a + (s >= Math.min(o.deadWindow, tokensSeen) ? 1 : 0), 0);
        const entry: SaeProgress = {
          step,
          totalSteps: o.steps,
          loss: stats.loss,
          mse: stats.mse as number,
          l0: stats.l0 as number,
          fve: 1 - (stats.mse as number) / Math.max(stats.resid as number, 1e-12),
          dead,
          lr,
          l1Coef,
          auxLoss: stats.aux as number,
          activationsPerSecond: windowTokens / Math.max((now - windowStart) / 1000, 1e-9),
        };
        windowStart = now;
        windowTokens = 0;
        log.push(entry);
        o.onProgress?.(entry);
      }
    }
    if (step > o.steps) step = o.steps;
    const weights = exportWeights(sae, scale);
    return { weights, status, steps: step, seconds: (performance.now() - started) / 1000, scale, log, resampled };
  } finally {
    disposeAll();
  }
}

/** The trained weights for raw (unscaled) activations: b_enc / s, b_dec / s (see the module comment). */
function exportWeights(sae: LiveSae, scale: number): SaeWeights {
  const host = (t: tf.Tensor, div = 1): { shape: number[]; data: Float32Array } => {
    const data = Float32Array.from(t.dataSync() as Float32Array);
    if (div !== 1) for (let i = 0; i < data.length; i++) data[i] /= div;
    return { shape: t.shape.slice(), data };
  };
  return { W_enc: host(sae.W_enc), b_enc: host(sae.b_enc, scale), W_dec: host(sae.W_dec), b_dec: host(sae.b_dec, scale) };
}

/**
 * Anthropic's resampling: each dead feature gets a new decoder row along an input with high
 * reconstruction loss (drawn ∝ loss²), centred by b_dec and unit-normed; its encoder column is that
 * direction × 0.2 × the mean encoder norm of live features; b_enc 0; Adam moments of those entries reset.
 */
function resampleDead(
  sae: LiveSae,
  slots: AdamSlot[],
  stream: ActivationStream,
  o: SaeTrainOptions,
  scale: number,
  sinceFired: Float64Array,
  rng: Rng,
  shape: { architecture: SaeArchitecture; k?: number },
): number {
  const d = o.dIn;
  const dSae = d * o.expansion;
  const dead: number[] = [];
  for (let i = 0; i < dSae; i++) if (sinceFired[i] >= o.deadWindow) dead.push(i);
  if (!dead.length) return 0;
  const data = stream.next(o.batchSize);
  const n = data.length / d;
  const { losses, centred } = tf.tidy(() => {
    const x = tf.tensor2d(data, [n, d]).mul(scale) as tf.Tensor2D;
    const xh = decode(sae, activate(preActivations(sae, x, shape), shape));
    return { losses: xh.sub(x).square().sum(1).dataSync() as Float32Array, centred: x.sub(sae.b_dec).dataSync() as Float32Array };
  });
  const weights = Array.from(losses, (l) => l * l);
  const total = weights.reduce((a, b) => a + b, 0);
  const wEnc = Float32Array.from(sae.W_enc.dataSync() as Float32Array);
  const wDec = Float32Array.from(sae.W_dec.dataSync() as Float32Array);
  const bEnc = Float32Array.from(sae.b_enc.dataSync() as Float32Array);
  const deadSet = new Set(dead);
  let aliveNorm = 0;
  let alive = 0;
  for (let i = 0; i < dSae; i++) {
    if (deadSet.has(i)) continue;
    let s = 0;
    for (let j = 0; j < d; j++) s += wEnc[j * dSae + i] ** 2;
    aliveNorm += Math.sqrt(s);
    alive++;
  }
  const encNorm = 0.2 * (alive ? aliveNorm / alive : 1);
  for (const i of dead) {
    let r = rng.next() * total;
    let pick = 0;
    if (total > 0) {
      while (pick < n - 1 && r >= weights[pick]) r -= weights[pick++];
    } else pick = rng.int(0, n - 1);
    let s = 0;
    for (let j = 0; j < d; j++) s += centred[pick * d + j] ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-8);
    for (let j = 0; j < d; j++) {
      const u = centred[pick * d + j] * inv;
      wDec[i * d + j] = u;
      wEnc[j * dSae + i] = u * encNorm;
    }
    bEnc[i] = 0;
    sinceFired[i] = 0;
  }
  // Moments of the resampled rows / columns start again from zero.
  const zeroRows = (t: tf.Variable, rows: boolean): void => {
    const a = Float32Array.from(t.dataSync() as Float32Array);
    for (const i of dead) {
      if (t.shape.length === 1) a[i] = 0;
      else if (rows) a.fill(0, i * d, (i + 1) * d);
      else for (let j = 0; j < d; j++) a[j * dSae + i] = 0;
    }
    tf.tidy(() => t.assign(tf.tensor(a, t.shape)));
  };
  const [encSlot, bEncSlot, decSlot] = slots;
  for (const sl of [encSlot, bEncSlot, decSlot]) {
    const rows = sl === decSlot;
    zeroRows(sl.m, rows);
    zeroRows(sl.s, rows);
  }
  tf.tidy(() => {
    (sae.W_enc as unknown as tf.Variable).assign(tf.tensor2d(wEnc, [d, dSae]));
    (sae.W_dec as unknown as tf.Variable).assign(tf.tensor2d(wDec, [dSae, d]));
    (sae.b_enc as unknown as tf.Variable).assign(tf.tensor1d(bEnc));
  });
  return dead.length;
}
