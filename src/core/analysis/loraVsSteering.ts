import type { DeltaSummary } from '../../shared/analysis';
import * as tf from '@tensorflow/tfjs';
import type { HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import type { TokenBatch } from '../tasks/taskTypes';
import { forward, type Params } from '../model/forward';
import { tidyHost } from '../util/tidyHost';
import { cosine, norm, pairwiseAbsCos, pca, type Rows } from './linalg';

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

/** Evenly spaced rows, for a displayable |cos| matrix. */
export function sampleRows(m: Rows, k: number): { rows: Rows; index: number[] } {
  const n = Math.min(k, m.n);
  const index = Array.from({ length: n }, (_, i) => Math.floor((i * m.n) / n));
  const data = new Float32Array(n * m.d);
  index.forEach((r, i) => data.set(m.data.subarray(r * m.d, (r + 1) * m.d), i * m.d));
  return { rows: { n, d: m.d, data }, index };
}
