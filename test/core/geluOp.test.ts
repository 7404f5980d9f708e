import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { GELU_KERNEL } from '../../src/core/backend/kernels/inplaceKernels';
import { GELU_STOCK_SIZE, geluComposite, geluTanh } from '../../src/core/model/geluOp';

/**
 * The fused GELU (assembly/inplace.ts) against the exact formula in float64 (errors relative to |gelu|,
 * floored at |x|·1e-3, and to max(|gelu'|, 1)), and where the op uses it.
 */

const C = Math.sqrt(2 / Math.PI);
const exact = (x: number): number => 0.5 * x * (1 + Math.tanh(C * (x + 0.044715 * x ** 3)));
const exactGrad = (x: number): number => {
  const t = Math.tanh(C * (x + 0.044715 * x ** 3));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * x);
};

/** Points from −12 to 12, denser near 0, plus zeros and tiny values; a length not a multiple of 4. */
function points(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = (i / (n - 1)) * 2 - 1;
    x[i] = 12 * u * u * u;
  }
  x[1] = 0;
  x[2] = -0;
  x[3] = 1e-30;
  x[4] = -3e-8;
  return x;
}

let wasm = false;
beforeAll(async () => {
  wasm = (await initBackend()).name === 'wasm';
});

describe('fused GELU', () => {
  const n = GELU_STOCK_SIZE + 3;

  it('is closer to the exact GELU and its derivative (float64) than the composite', (ctx) => {
    if (!wasm) ctx.skip('the fused kernel serves the wasm backend');
    const xs = points(n);
    const x = tf.tensor1d(xs);
    const dy = tf.onesLike(x);
    // n > GELU_STOCK_SIZE: the op takes the fused kernel.
    const [fused, fusedGrad] = (() => {
      const g = tf.grad((t: tf.Tensor) => geluTanh(t).mul(dy).sum());
      return [geluTanh(x).dataSync(), g(x).dataSync()];
    })();
    const [comp, compGrad] = (() => {
      const g = tf.grad((t: tf.Tensor) => geluComposite(t).mul(dy).sum());
      return [geluComposite(x).dataSync(), g(x).dataSync()];
    })();
    let worstFused = 0;
    let worstComposite = 0;
    let worstGrad = 0;
    let worstCompGrad = 0;
    for (let i = 0; i < n; i += 7) {
      const e = exact(xs[i]);
      const scale = Math.max(Math.abs(e), Math.abs(xs[i]) * 1e-3, 1e-30);
      worstFused = Math.max(worstFused, Math.abs(fused[i] - e) / scale);
      worstComposite = Math.max(worstComposite, Math.abs(comp[i] - e) / scale);
      const eg = exactGrad(xs[i]);
      worstGrad = Math.max(worstGrad, Math.abs(fusedGrad[i] - eg) / Math.max(Math.abs(eg), 1));
      worstCompGrad = Math.max(worstCompGrad, Math.abs(compGrad[i] - eg) / Math.max(Math.abs(eg), 1));
    }
    // Measured: forward 8.8e-7 (the composite 1.5e-5: its 1 + tanh u cancels for very negative x),
    // gradient 1.7e-7 (the composite 5.6e-7).
    expect(worstFused).toBeLessThan(1.5e-6);
    expect(worstGrad).toBeLessThan(5e-7);
    expect(worstFused).toBeLessThan(worstComposite);
    expect(worstGrad).toBeLessThan(worstCompGrad);
    // The last elements (past the last whole group of four) too.
    for (let i = n - 3; i < n; i++) expect(Math.abs(fused[i] - exact(xs[i]))).toBeLessThan(1e-5);
    expect(fused[1]).toBe(0);
    tf.dispose([x, dy]);
  });

  it('keeps the composite (its exact bits) for tensors up to GELU_STOCK_SIZE, and off wasm', () => {
    const x = tf.tensor1d(points(1000));
    expect(geluTanh(x).dataSync()).toEqual(geluComposite(x).dataSync());
    tf.dispose(x);
  });

  it('runs the fused kernel above the size on wasm', (ctx) => {
    if (!wasm) ctx.skip('the fused kernel serves the wasm backend');
    const original = tf.getKernel(GELU_KERNEL, 'wasm');
    expect(original).toBeDefined();
    let calls = 0;
    tf.unregisterKernel(GELU_KERNEL, 'wasm');
    tf.registerKernel({ ...original!, kernelFunc: (args) => ((calls += 1), original!.kernelFunc(args)) });
    try {
      tf.tidy(() => geluTanh(tf.zeros([GELU_STOCK_SIZE + 1])).dataSync());
      tf.tidy(() => geluTanh(tf.zeros([GELU_STOCK_SIZE])).dataSync());
    } finally {
      tf.unregisterKernel(GELU_KERNEL, 'wasm');
      tf.registerKernel(original!);
    }
    expect(calls).toBe(1);
  });
});
