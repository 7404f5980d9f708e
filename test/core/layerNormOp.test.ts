import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { LAYER_NORM_KERNEL } from '../../src/core/backend/kernels/inplaceKernels';
import { LAYER_NORM_STOCK_SIZE, layerNormComposite, layerNormOp } from '../../src/core/model/layerNormOp';
import { Rng } from '../../src/core/util/rng';

/** The fused LayerNorm (assembly/inplace.ts) against the composite ops, and where the op uses it. */

function values(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => offset + scale * (rng.next() - 0.5));
}

/** LayerNorm of the first `rows` rows in float64. */
function reference(x: Float32Array, w: Float32Array, b: Float32Array, rows: number, D: number, eps: number): Float64Array {
  const y = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let j = 0; j < D; j++) m += x[r * D + j];
    m /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[r * D + j] - m) ** 2;
    const rs = 1 / Math.sqrt(v / D + eps);
    for (let j = 0; j < D; j++) y[r * D + j] = (x[r * D + j] - m) * rs * w[j] + b[j];
  }
  return y;
}

let wasm = false;
beforeAll(async () => {
  wasm = (await initBackend()).name === 'wasm';
});

/** Largest |a − b| relative to the largest |b|. */
function relDiff(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>): number {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    worst = Math.max(worst, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return worst / scale;
}

describe('fused LayerNorm', () => {
  it('gives the composite\'s values and gradients (x, w and b) to float32 rounding', (ctx) => {
    if (!wasm) ctx.skip('the fused kernel serves the wasm backend');
    const [B, T, D] = [70, 16, 256];
    expect(B * T * D).toBeGreaterThan(LAYER_NORM_STOCK_SIZE);
    tf.tidy(() => {
      // rows with an offset far from 0 (the variance from centred values) and a small spread
      const x = tf.tensor3d(values(B * T * D, 1, 3, 40), [B, T, D]);
      const w = tf.tensor1d(values(D, 2, 1, 1));
      const b = tf.tensor1d(values(D, 3));
      const dy = tf.tensor3d(values(B * T * D, 4), [B, T, D]);
      const f = (op: typeof layerNormOp) => tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => op(a, c, e, 1e-5).mul(dy).sum());
      // Forward against float64 on the first rows (measured: 3.3e-6 fused, 1.9e-5 composite).
      const exact = reference(x.dataSync() as Float32Array, w.dataSync() as Float32Array, b.dataSync() as Float32Array, 64, D, 1e-5);
      const err = (y: tf.Tensor): number => relDiff(y.dataSync().subarray(0, 64 * D), exact);
      const fusedErr = err(layerNormOp(x, w, b, 1e-5));
      const compositeErr = err(layerNormComposite(x, w, b, 1e-5));
      expect(fusedErr).toBeLessThan(Math.max(2 * compositeErr, 1e-6));
      const fused = f(layerNormOp)([x, w, b]);
      const composite = f(layerNormComposite)([x, w, b]);
      for (let i = 0; i < 3; i++) {
        expect(fused[i].shape).toEqual(composite[i].shape);
        expect(relDiff(fused[i], composite[i])).toBeLessThan(1e-4);
      }
    });
  });

  it('keeps the composite (its exact bits) up to LAYER_NORM_STOCK_SIZE, and runs the kernel above it', (ctx) => {
    if (!wasm) ctx.skip('the fused kernel serves the wasm backend');
    const original = tf.getKernel(LAYER_NORM_KERNEL, 'wasm')!;
    let calls = 0;
    tf.unregisterKernel(LAYER_NORM_KERNEL, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: (args) => ((calls += 1), original.kernelFunc(args)) });
    try {
      tf.tidy(() => {
        const w = tf.ones([64]);
        const b = tf.zeros([64]);
        const small = tf.tensor2d(values(LAYER_NORM_STOCK_SIZE, 5), [LAYER_NORM_STOCK_SIZE / 64, 64]);
        expect(layerNormOp(small, w, b, 1e-5).dataSync()).toEqual(layerNormComposite(small, w, b, 1e-5).dataSync());
        expect(calls).toBe(0);
        layerNormOp(tf.zeros([LAYER_NORM_STOCK_SIZE / 64 + 1, 64]), w, b, 1e-5).dataSync();
        expect(calls).toBe(1);
      });
    } finally {
      tf.unregisterKernel(LAYER_NORM_KERNEL, 'wasm');
      tf.registerKernel(original);
    }
  });
});
