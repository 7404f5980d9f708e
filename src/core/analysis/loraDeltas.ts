import * as tf from '@tensorflow/tfjs';
import type { HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import { forward, type Params } from '../model/forward';
import { tidyHost } from '../util/tidyHost';
import { norm, type Rows } from './linalg';

/**
 * Per-token residual deltas of an adapted model against its base over texts of different lengths:
 * resid(adapted) − resid(base) at `hook` for every token of every text, text by text
 * ([Σ T_i, d_model]). One forward pass per text and model; pure data out, no tensor escapes.
 */
export function textDeltas(c: ModelConfig, base: Params, adapted: Params, texts: readonly (readonly number[])[], hook: HookName): Rows {
  const d = c.dModel;
  const n = texts.reduce((s, t) => s + t.length, 0);
  const data = new Float32Array(n * d);
  let o = 0;
  for (const ids of texts) {
    const delta = tidyHost(() => {
      const tokens = tf.tensor2d([ids as number[]], [1, ids.length], 'int32');
      const a = forward(c, base, tokens, { cache: [hook] }).cache[hook];
      const b = forward(c, adapted, tokens, { cache: [hook] }).cache[hook];
      return b.sub(a).reshape([-1, d]).dataSync() as Float32Array;
    });
    data.set(delta, o);
    o += delta.length;
  }
  return { n, d, data };
}

/** The norm of every row. */
export function rowNorms(m: Rows): number[] {
  return Array.from({ length: m.n }, (_, i) => norm(m.data.subarray(i * m.d, (i + 1) * m.d)));
}

/**
 * At most `k` of the tokens of texts of these lengths, for a displayable matrix: each text gets a
 * share proportional to its length (spread by cumulative counts, so many short texts are sampled
 * evenly too), and within a text the positions are evenly spaced from an offset that moves from text
 * to text (golden-ratio steps), so that every position range appears even when every text has the
 * same length. Returns indices into the concatenation, text by text, ascending.
 */
export function sampleTokenIndices(lengths: readonly number[], k: number): number[] {
  const n = lengths.reduce((s, t) => s + t, 0);
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  let before = 0;
  lengths.forEach((T, i) => {
    const q = Math.min(T, Math.floor((k * (before + T)) / n) - Math.floor((k * before) / n));
    const phase = ((i + 1) * 0.6180339887498949) % 1;
    for (let j = 0; j < q; j++) out.push(before + Math.min(T - 1, Math.floor(((j + phase) * T) / q)));
    before += T;
  });
  return out;
}

/** The rows at `index`. */
export function pickRows(m: Rows, index: readonly number[]): Rows {
  const data = new Float32Array(index.length * m.d);
  index.forEach((r, i) => data.set(m.data.subarray(r * m.d, (r + 1) * m.d), i * m.d));
  return { n: index.length, d: m.d, data };
}
