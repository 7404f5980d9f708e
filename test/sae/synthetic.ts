import { Rng } from '../../src/core/util/rng';
import type { ActivationStream } from '../../src/core/sae/activationStream';

/**
 * Synthetic activations with planted sparse features: `nFeat` random unit directions in d dimensions,
 * each active with probability `p` per sample with a magnitude uniform in [0.5, 1.5].
 */
export function plantedFeatures(d: number, nFeat: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const dirs = new Float32Array(nFeat * d);
  for (let i = 0; i < nFeat; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (dirs[i * d + j] = rng.normal()) ** 2;
    for (let j = 0; j < d; j++) dirs[i * d + j] /= Math.sqrt(s);
  }
  return dirs;
}

export function plantedStream(dirs: Float32Array, d: number, p: number, seed: number): ActivationStream {
  const nFeat = dirs.length / d;
  const rng = new Rng(seed);
  return {
    dIn: d,
    next(n) {
      const out = new Float32Array(n * d);
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < nFeat; i++) {
          if (rng.next() >= p) continue;
          const a = 0.5 + rng.next();
          for (let j = 0; j < d; j++) out[r * d + j] += a * dirs[i * d + j];
        }
      }
      return out;
    },
  };
}

/** For each planted direction, the max cosine with any decoder row of W_dec [dSae, d]. */
export function maxCosines(dirs: Float32Array, wDec: Float32Array, d: number): number[] {
  const nFeat = dirs.length / d;
  const dSae = wDec.length / d;
  const norms = Array.from({ length: dSae }, (_, k) => Math.sqrt(wDec.subarray(k * d, (k + 1) * d).reduce((a, v) => a + v * v, 0)) || 1);
  const out: number[] = [];
  for (let i = 0; i < nFeat; i++) {
    let best = -1;
    for (let k = 0; k < dSae; k++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += dirs[i * d + j] * wDec[k * d + j];
      best = Math.max(best, dot / norms[k]);
    }
    out.push(best);
  }
  return out;
}
