import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { forward, type Params } from '../../src/core/model/forward';
import { initParams, paramSpecs } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import { presetConfig } from '../../src/core/presets';
import { Rng } from '../../src/core/util/rng';

/**
 * Our wasm kernel fixes (row-gather GatherV2, UnsortedSegmentSum, transpose-free BatchMatMul) must give
 * the cpu backend's numbers to float tolerance, forward and backward.
 */
type Host = { data: Float32Array; shape: number[] };

function randn(rng: Rng, shape: number[]): Host {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal();
  return { data, shape };
}

async function onBackend<T>(name: 'wasm' | 'cpu', f: () => T): Promise<T> {
  await tf.setBackend(name);
  return f();
}

function expectClose(a: Float32Array | number[], b: Float32Array | number[], tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  expect(worst / scale).toBeLessThanOrEqual(tol);
}

// This file tests the wasm kernels themselves: where the wasm backend cannot load, it skips, saying why.
const WASM_ERROR = await initBackend({ backend: 'wasm' }).then(
  () => undefined,
  (err: unknown) => (err instanceof Error ? err.message : String(err)),
);

if (WASM_ERROR !== undefined) {
  it('wasm kernels (skipped: the wasm backend cannot load here)', (ctx) => {
    ctx.skip(`the wasm backend cannot load here: ${WASM_ERROR}`);
  });
}

describe.skipIf(WASM_ERROR !== undefined)('wasm kernel fixes match the cpu backend', () => {
  it('UnsortedSegmentSum (the gradient of gather) exists on wasm and sums segments', async () => {
    const rng = new Rng(1);
    const x = randn(rng, [50, 7]);
    const ids = Int32Array.from({ length: 50 }, (_, i) => (i * 7) % 11);
    const run = (): Float32Array =>
      tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(x.data, x.shape), tf.tensor1d(ids, 'int32'), 11).dataSync() as Float32Array);
    const w = await onBackend('wasm', run);
    const c = await onBackend('cpu', run);
    expectClose(w, c, 1e-6);
    await tf.setBackend('wasm');
  });

  it('UnsortedSegmentSum drops out-of-range ids as TensorFlow does', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d([[1], [2], [3]]), tf.tensor1d([0, 5, 1], 'int32'), 2).dataSync());
    expect(Array.from(out)).toEqual([1, 3]);
  });

  it('gather forward and gradient', async () => {
    const rng = new Rng(2);
    const table = randn(rng, [128, 24]);
    const idx = Int32Array.from({ length: 300 }, () => rng.int(0, 127));
    const up = randn(rng, [300, 24]);
    const run = (): [Float32Array, Float32Array] =>
      tf.tidy(() => {
        const t = tf.tensor(table.data, table.shape);
        const i = tf.tensor1d(idx, 'int32');
        const g = tf.grad((w: tf.Tensor) => tf.gather(w, i).mul(tf.tensor(up.data, up.shape)).sum())(t);
        return [tf.gather(t, i).dataSync() as Float32Array, g.dataSync() as Float32Array];
      });
    const [wf, wg] = await onBackend('wasm', run);
    const [cf, cg] = await onBackend('cpu', run);
    expectClose(wf, cf, 0);
    expectClose(wg, cg, 1e-5);
    await tf.setBackend('wasm');
  });

  it('gather with 2-D indices and out-of-range index errors', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() => tf.gather(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), tf.tensor2d([[2, 0], [1, 1]], [2, 2], 'int32')));
    expect(out.shape).toEqual([2, 2, 2]);
    expect(Array.from(out.dataSync())).toEqual([5, 6, 1, 2, 3, 4, 3, 4]);
    out.dispose();
    expect(() => tf.tidy(() => tf.gather(tf.tensor2d([[1, 2]]), tf.tensor1d([3], 'int32')))).toThrow(/not in \[0, 0\]/);
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('batched matmul with transposeA=%s transposeB=%s, forward and gradients', async (ta, tb) => {
    const rng = new Rng(3);
    const a = randn(rng, ta ? [3, 9, 5] : [3, 5, 9]);
    const b = randn(rng, tb ? [3, 4, 9] : [3, 9, 4]);
    const run = (): Float32Array[] =>
      tf.tidy(() => {
        const A = tf.tensor(a.data, a.shape);
        const B = tf.tensor(b.data, b.shape);
        const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, ta, tb).square().sum();
        const [ga, gb] = tf.grads(f)([A, B]);
        return [tf.matMul(A as tf.Tensor3D, B as tf.Tensor3D, ta, tb).dataSync() as Float32Array, ga.dataSync() as Float32Array, gb.dataSync() as Float32Array];
      });
    const w = await onBackend('wasm', run);
    const c = await onBackend('cpu', run);
    for (let i = 0; i < 3; i++) expectClose(w[i], c[i], 1e-5);
    await tf.setBackend('wasm');
  });

  it('full model gradients (2 layers, softmax, MLP, LayerNorm, learned embeddings) agree across backends', async () => {
    const c = resolveConfig({ nLayers: 2, dModel: 32, nHeads: 2, dHead: 16, dVocab: 40, nCtx: 8, mlp: true, layerNorm: true, posEmbed: true });
    const host = initParams(c, 7);
    const rng = new Rng(4);
    const tokens = Int32Array.from({ length: 6 * 8 }, () => rng.int(0, 39));
    const run = (): Record<string, Float32Array> =>
      tf.tidy(() => {
        const params: Params = {};
        for (const s of paramSpecs(c)) params[s.name] = tf.tensor(host[s.name].data, host[s.name].shape);
        const names = Object.keys(params);
        const f = (...xs: tf.Tensor[]): tf.Scalar => {
          const p: Params = Object.fromEntries(names.map((n, i) => [n, xs[i]]));
          const { logits } = forward(c, p, tf.tensor2d(tokens, [6, 8], 'int32'));
          return tf.logSoftmax(logits).mul(tf.oneHot(tf.tensor2d(tokens, [6, 8], 'int32'), c.dVocab)).sum().neg() as tf.Scalar;
        };
        const gs = tf.grads(f)(names.map((n) => params[n]));
        return Object.fromEntries(names.map((n, i) => [n, gs[i].dataSync() as Float32Array]));
      });
    const w = await onBackend('wasm', run);
    const cp = await onBackend('cpu', run);
    for (const name of Object.keys(cp)) expectClose(w[name], cp[name], 2e-4);
    await tf.setBackend('wasm');
  });

  it('the ocr preset (one-hot fast path, readout last) gives the same loss gradients on both backends', async () => {
    const cfg = presetConfig('ocr-factorized');
    const host = initParams(cfg.model, 0);
    const rng = new Rng(5);
    const tokens = Int32Array.from({ length: 10 * 16 }, () => rng.int(0, 127));
    const run = (): Float32Array[] =>
      tf.tidy(() => {
        const params: Params = {};
        for (const s of paramSpecs(cfg.model)) params[s.name] = tf.tensor(host[s.name].data, host[s.name].shape);
        const trainable = ['blocks.0.attn.W_Q', 'blocks.0.attn.W_V', 'blocks.0.attn.W_O'];
        const f = (...xs: tf.Tensor[]): tf.Scalar => {
          const p = { ...params, ...Object.fromEntries(trainable.map((n, i) => [n, xs[i]])) };
          return forward(cfg.model, p, tf.tensor2d(tokens, [10, 16], 'int32'), { readout: 'last' }).logits.square().sum() as tf.Scalar;
        };
        return tf.grads(f)(trainable.map((n) => params[n])).map((g) => g.dataSync() as Float32Array);
      });
    const w = await onBackend('wasm', run);
    const c = await onBackend('cpu', run);
    w.forEach((g, i) => expectClose(g, c[i], 1e-4));
    await tf.setBackend('wasm');
  });
});

describe.skipIf(WASM_ERROR !== undefined)('wasm Identity shares the buffer safely', () => {
  it('a clone keeps its values after the original is disposed, and frees with its last reference', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    const g = tf.grad((x: tf.Tensor) => x.square().sum())(b);
    expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
    b.dispose();
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
