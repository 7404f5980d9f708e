import type { CosBlockMeans, DeltaCosTrained, DeltaSummary, LayerSweepEntry, SeedsRecord } from '../../shared/analysis';
import * as tf from '@tensorflow/tfjs';
import { hookName, type HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import type { TokenBatch } from '../tasks/taskTypes';
import { forward, type Params } from '../model/forward';
import { tidyHost } from '../util/tidyHost';
import { cosine, dot, norm, pairwiseAbsCos, pca, row, type Rows } from './linalg';

/**
 * Per-token residual difference that an adaptation makes at `hook`: adapted − base, for every position
 * of every prompt ([n_prompts · seq_len, d_model]). Pure data out; no tensors escape.
 */
export function activationDeltas(c: ModelConfig, base: Params, adapted: Params, batch: TokenBatch, hook: HookName): Rows {
  return tidyHost(() => {
    const tokens = tf.tensor2d(batch.tokens, [batch.batch, batch.seqLen], 'int32');
    const a = forward(c, base, tokens, { cache: [hook] }).cache[hook];
    const b = forward(c, adapted, tokens, { cache: [hook] }).cache[hook];
    const d = a.shape[a.shape.length - 1] as number;
    const data = b.sub(a).reshape([-1, d]).dataSync() as Float32Array;
    return { n: data.length / d, d, data: Float32Array.from(data) };
  });
}

export type { DeltaSummary } from '../../shared/analysis';

/** The "natural steering vector" of arXiv 2507.08218 and the statistics around it. */
export function summariseDeltas(deltas: Rows): DeltaSummary {
  const { meanOffDiagonal } = pairwiseAbsCos(deltas);
  const raw = pca(deltas, { centre: false, k: 1 });
  const centred = pca(deltas, { centre: true, k: 1 });
  const mean = new Array<number>(deltas.d).fill(0);
  let normSum = 0;
  for (let i = 0; i < deltas.n; i++) {
    const r = deltas.data.subarray(i * deltas.d, (i + 1) * deltas.d);
    normSum += norm(r);
    for (let j = 0; j < deltas.d; j++) mean[j] += r[j] / deltas.n;
  }
  const meanNorm = normSum / deltas.n;
  const pc1 = raw.components[0] ?? new Array<number>(deltas.d).fill(0);
  const sign = cosine(pc1, mean) < 0 ? -1 : 1;
  return {
    nTokens: deltas.n,
    meanAbsCos: meanOffDiagonal,
    pc1VarRatio: raw.varianceRatio[0] ?? 0,
    pc1VarRatioCentred: centred.varianceRatio[0] ?? 0,
    meanNorm,
    naturalVector: pc1.map((x) => sign * x * meanNorm),
    cosPc1Mean: Math.abs(cosine(pc1, mean)),
  };
}

/** Concatenates delta sets (training prompts and unrelated prompts). */
export function concatRows(...sets: Rows[]): Rows {
  const d = sets[0].d;
  const data = new Float32Array(sets.reduce((s, r) => s + r.data.length, 0));
  let o = 0;
  for (const r of sets) {
    if (r.d !== d) throw new Error('concatRows: widths differ');
    data.set(r.data, o);
    o += r.data.length;
  }
  return { n: data.length / d, d, data };
}

/**
 * k token indices spread over positions: round-robin over the distinct positions (earliest first), so
 * every position appears before any repeats, with the read-out tokens (those predicting a completion
 * token, where the answer is produced) as one group of their own, first.
 */
export function stratifiedSample(positions: readonly number[], readout: readonly boolean[], k: number): number[] {
  const groups = new Map<string, number[]>();
  positions.forEach((p, i) => {
    const key = readout[i] ? 'r' : `p${p}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const order = [...groups.keys()].sort((a, b) => (a === 'r' ? -1 : b === 'r' ? 1 : Number(a.slice(1)) - Number(b.slice(1))));
  const picked: number[] = [];
  const want = Math.min(k, positions.length);
  for (let round = 0; picked.length < want; round++) {
    for (const key of order) {
      const g = groups.get(key) as number[];
      if (round < g.length && picked.length < want) picked.push(g[round]);
    }
  }
  return picked.sort((a, b) => a - b);
}

/** The rows at `index`, in that order. */
export function pickRows(m: Rows, index: readonly number[]): Rows {
  const data = new Float32Array(index.length * m.d);
  index.forEach((r, i) => data.set(m.data.subarray(r * m.d, (r + 1) * m.d), i * m.d));
  return { n: index.length, d: m.d, data };
}

/** At most k rows, evenly spaced (pairwise statistics are quadratic in the rows). */
export function capRows(m: Rows, k: number): Rows {
  if (m.n <= k) return m;
  return pickRows(
    m,
    Array.from({ length: k }, (_, i) => Math.floor((i * m.n) / k)),
  );
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

export function round4(v: number): number {
  return Number(v.toFixed(4));
}

/**
 * Mean off-diagonal |cos| of the token deltas per block of the full |cos| matrix — train×train,
 * unrelated×unrelated, train×unrelated — over every token of both sets (not a display sample). The two
 * within-set means are exactly `summariseDeltas(set).meanAbsCos`.
 */
export function cosBlockMeans(train: Rows, unrelated: Rows): CosBlockMeans {
  const unit = (m: Rows): Float64Array[] =>
    Array.from({ length: m.n }, (_, i) => {
      const r = row(m, i);
      const n = norm(r);
      return Float64Array.from(r, (x) => (n === 0 ? 0 : x / n));
    });
  const a = unit(train);
  const b = unit(unrelated);
  let sum = 0;
  for (const x of a) for (const y of b) sum += Math.abs(dot(x, y));
  return {
    train: pairwiseAbsCos(train).meanOffDiagonal,
    unrelated: pairwiseAbsCos(unrelated).meanOffDiagonal,
    across: a.length && b.length ? sum / (a.length * b.length) : NaN,
    n_train: train.n,
    n_unrelated: unrelated.n,
  };
}

/**
 * cos(LoRA delta of each token, trained vector): the values of a display sample (rounded to 4 places,
 * labelled) and the means over every token of each set.
 */
export function deltaCosTrained(
  train: { rows: Rows; index: readonly number[]; labels: readonly string[] },
  unrelated: { rows: Rows; index: readonly number[]; labels: readonly string[] },
  vector: readonly number[],
): DeltaCosTrained {
  const perToken = (m: Rows): number[] => Array.from({ length: m.n }, (_, i) => cosine(row(m, i), vector));
  const cosTrain = perToken(train.rows);
  const cosUnrel = perToken(unrelated.rows);
  return {
    labels: [...train.index.map((i) => train.labels[i]), ...unrelated.index.map((i) => unrelated.labels[i])],
    values: [...train.index.map((i) => round4(cosTrain[i])), ...unrelated.index.map((i) => round4(cosUnrel[i]))],
    mean: { train: mean(cosTrain), unrelated: mean(cosUnrel), all: mean([...cosTrain, ...cosUnrel]) },
  };
}

/**
 * Every layer's resid_post deltas (training and unrelated tokens together, each set capped at `cap`
 * rows): PC1 share, mean |cos| and mean norm; at the study's layer also cos(natural, trained).
 */
export function layerSweep(
  train: readonly Rows[],
  unrelated: readonly Rows[],
  o: { layer: number; natural: readonly number[]; trained: readonly number[]; cap?: number },
): LayerSweepEntry[] {
  const cap = o.cap ?? Infinity;
  return train.map((rows, l) => {
    const s = summariseDeltas(concatRows(capRows(rows, cap), capRows(unrelated[l], cap)));
    return {
      layer: l,
      hook: hookName('hook_resid_post', l),
      pc1_var_ratio: s.pc1VarRatio,
      mean_abs_cos: s.meanAbsCos,
      mean_norm: s.meanNorm,
      ...(l === o.layer ? { cos_natural_trained: cosine(o.natural, o.trained) } : {}),
    };
  });
}

/** The trained vectors, one per seed: accuracies (with their question counts where known), norms, cosines between seeds. */
export function seedsRecord(runs: readonly { seed: number; acc: number; side_effect_acc: number; vector: readonly number[]; n?: number; side_effect_n?: number }[]): SeedsRecord {
  return {
    runs: runs.map((s) => ({
      seed: s.seed,
      acc: s.acc,
      side_effect_acc: s.side_effect_acc,
      norm: Math.hypot(...s.vector),
      ...(s.n !== undefined ? { n: s.n } : {}),
      ...(s.side_effect_n !== undefined ? { side_effect_n: s.side_effect_n } : {}),
    })),
    cos: runs.map((a) => runs.map((b) => cosine(a.vector, b.vector))),
  };
}
