import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { stockWasmKernel } from '../../src/core/backend/kernels/registerWasmKernels';
import { forward, repeatOverBatch, type Params } from '../../src/core/model/forward';
import { initParams, paramSpecs } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import { presetConfig } from '../../src/core/presets';
import { AdamW } from '../../src/core/train/adamw';
import { lastTokenLoss } from '../../src/core/train/evaluate';
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

/** Runs `f` with the wasm backend's own kernels in place of our rewrites of `names`, then restores ours. */
function withStockKernels<T>(names: readonly string[], f: () => T): T {
  const ours = names.map((n) => {
    const k = tf.getKernel(n, 'wasm');
    const stock = stockWasmKernel(n);
    if (!k || !stock) throw new Error(`no override/stock pair for ${n}`);
    return [k, stock] as const;
  });
  const swap = (configs: tf.KernelConfig[]): void => {
    for (const k of configs) {
      tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel(k);
    }
  };
  swap(ours.map(([, stock]) => stock));
  try {
    return f();
  } finally {
    swap(ours.map(([k]) => k));
  }
}

/** The same bits (NaN included), with the first difference in the failure message. */
function expectSameBits(got: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; length: number; BYTES_PER_ELEMENT: number }, want: typeof got, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const a = new Uint8Array(got.buffer, got.byteOffset, got.length * got.BYTES_PER_ELEMENT);
  const b = new Uint8Array(want.buffer, want.byteOffset, want.length * want.BYTES_PER_ELEMENT);
  let diffs = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      diffs++;
      if (first < 0) first = Math.floor(i / got.BYTES_PER_ELEMENT);
    }
  }
  expect(diffs, diffs ? `${what}: ${diffs} bytes differ, first at element ${first}: ${got[first]} vs ${want[first]}` : what).toBe(0);
}

type Values = Float32Array | Int32Array | Uint8Array;

/** Random float32 values of several kinds: plain normals, magnitudes spread over ±30 decades, large mixed-sign values that cancel, some ±0. */
function spread(rng: Rng, n: number, kind: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    out[i] = kind === 0 ? z : kind === 1 ? z * Math.exp(rng.normal() * 10) : kind === 2 ? (rng.next() < 0.5 ? -1 : 1) * 1e7 * (1 + rng.next()) + z : rng.next() < 0.3 ? (rng.next() < 0.5 ? -0 : 0) : z;
  }
  return out;
}

function randomShape(rng: Rng, rank: number, max: number): number[] {
  return Array.from({ length: rank }, () => rng.int(1, max));
}

describe.skipIf(WASM_ERROR !== undefined)('exact wasm rewrites give the stock kernels bit for bit', () => {
  it('the stock Sum over leading axes is sequential float32 accumulation (what Sum_wasm reproduces)', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(21);
    for (let trial = 0; trial < 60; trial++) {
      const rank = rng.int(2, 4);
      const shape = randomShape(rng, rank, 12);
      const n = shape.reduce((a, b) => a * b, 1);
      const x = spread(rng, n, trial % 4);
      const k = rng.int(1, rank - 1);
      const stock = withStockKernels(['Sum'], () => tf.tidy(() => tf.sum(tf.tensor(x, shape), [...Array(k).keys()]).dataSync() as Float32Array));
      const cols = shape.slice(k).reduce((a, b) => a * b, 1);
      const seq = new Float32Array(cols);
      for (let r = 0; r < n / cols; r++) for (let j = 0; j < cols; j++) seq[j] += x[r * cols + j];
      expectSameBits(stock, seq, `stock Sum of [${shape}] over ${k} leading axes vs sequential float32`);
    }
  });

  it('Sum: leading-axis reductions (and the delegated cases) match the stock kernel', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(22);
    const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
      { shape: [2048, 1024], axis: [0], keepDims: false },
      { shape: [128, 16, 256], axis: [0, 1], keepDims: false },
      { shape: [128, 1, 256], axis: [0, 1], keepDims: true },
      { shape: [6, 5, 4], axis: [-3, -2], keepDims: false },
      { shape: [6, 5, 4], axis: 0, keepDims: true },
      { shape: [6, 5, 4], axis: [1, 0], keepDims: false }, // reversed order: the stock kernel
      { shape: [6, 5, 4], axis: [0, 2], keepDims: false }, // not a prefix: the stock kernel
      { shape: [6, 5, 4], axis: [2], keepDims: false },
      { shape: [6, 5, 4], axis: [0, 1, 2], keepDims: false },
      { shape: [3, 0, 4], axis: [0], keepDims: false },
    ];
    for (let trial = 0; trial < 80; trial++) {
      const rank = rng.int(2, 5);
      const shape = randomShape(rng, rank, trial < 40 ? 6 : rank <= 3 ? 40 : 12);
      const k = rng.int(1, rank - 1);
      cases.push({ shape, axis: [...Array(k).keys()].map((a) => (rng.next() < 0.3 ? a - rank : a)), keepDims: rng.next() < 0.5 });
    }
    cases.forEach(({ shape, axis, keepDims }, i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = spread(rng, n, i % 4);
      const run = (): [Float32Array, number[]] =>
        tf.tidy(() => {
          const s = tf.sum(tf.tensor(x, shape), axis, keepDims);
          return [s.dataSync() as Float32Array, s.shape];
        });
      const [got, gotShape] = run();
      const [want, wantShape] = withStockKernels(['Sum'], run);
      expect(gotShape).toEqual(wantShape);
      expectSameBits(got, want, `Sum of [${shape}] over ${JSON.stringify(axis)} keepDims=${keepDims}`);
    });
    // int32 goes to the stock kernel.
    expect(Array.from(tf.tidy(() => tf.sum(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), 0).dataSync()))).toEqual([4, 6]);
  });

  it('Sum of -0 rows is +0, as the stock kernel', async () => {
    await tf.setBackend('wasm');
    const got = tf.tidy(() => tf.sum(tf.tensor2d([-0, -0, -0, 1], [2, 2]), 0).dataSync());
    expect(Object.is(got[0], 0)).toBe(true);
    expect(got[1]).toBe(1);
  });

  it('Tile matches the stock kernel for every dtype, rank 1–4', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(23);
    const cases: { shape: number[]; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
      { shape: [1, 16, 256], reps: [128, 1, 1], dtype: 'float32' },
      { shape: [7, 1], reps: [1, 50], dtype: 'float32' },
      // a trailing axis of 1 broadcast (assembly/inplace.ts's repeatEach), fewer than four repeats too
      { shape: [128, 16, 1], reps: [1, 1, 256], dtype: 'float32' },
      { shape: [5, 1], reps: [1, 3], dtype: 'int32' },
      { shape: [3, 4], reps: [1, 1], dtype: 'int32' },
      { shape: [3, 0], reps: [2, 2], dtype: 'float32' },
    ];
    for (let trial = 0; trial < 60; trial++) {
      const rank = rng.int(1, 4);
      cases.push({ shape: randomShape(rng, rank, 5), reps: randomShape(rng, rank, 4), dtype: (['float32', 'int32', 'bool'] as const)[trial % 3] });
    }
    cases.forEach(({ shape, reps, dtype }, i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = dtype === 'float32' ? spread(rng, n, i % 4) : Int32Array.from({ length: n }, () => rng.int(dtype === 'bool' ? 0 : -1000, dtype === 'bool' ? 1 : 1000));
      const run = (): [Values, number[]] =>
        tf.tidy(() => {
          const t = tf.tile(tf.tensor(x, shape, dtype), reps);
          return [t.dataSync() as Values, t.shape];
        });
      const [got, gotShape] = run();
      const [want, wantShape] = withStockKernels(['Tile'], run);
      expect(gotShape).toEqual(wantShape);
      expectSameBits(got, want, `Tile ${dtype} [${shape}] by [${reps}]`);
    });
  });

  it('Slice matches the stock kernel for every dtype, rank 1–4', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(24);
    const cases: { shape: number[]; begin: number[]; size: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
      { shape: [128, 16, 256], begin: [5, 0, 0], size: [1, 16, 256], dtype: 'float32' },
      { shape: [128, 16, 256], begin: [0, 15, 0], size: [128, 1, 256], dtype: 'float32' },
      { shape: [16, 256], begin: [0, 0], size: [9, -1], dtype: 'float32' },
      { shape: [4, 5], begin: [1, 2], size: [0, 2], dtype: 'float32' },
    ];
    for (let trial = 0; trial < 80; trial++) {
      const rank = rng.int(1, 4);
      const shape = randomShape(rng, rank, 7);
      const begin = shape.map((s) => rng.int(0, s - 1));
      const size = shape.map((s, i) => (rng.next() < 0.2 ? -1 : rng.int(1, s - begin[i])));
      cases.push({ shape, begin, size, dtype: (['float32', 'int32', 'bool'] as const)[trial % 3] });
    }
    cases.forEach(({ shape, begin, size, dtype }, i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = dtype === 'float32' ? spread(rng, n, i % 4) : Int32Array.from({ length: n }, () => rng.int(dtype === 'bool' ? 0 : -1000, dtype === 'bool' ? 1 : 1000));
      const run = (): [Values, number[]] =>
        tf.tidy(() => {
          const t = tf.slice(tf.tensor(x, shape, dtype), begin, size);
          return [t.dataSync() as Values, t.shape];
        });
      const [got, gotShape] = run();
      const [want, wantShape] = withStockKernels(['Slice'], run);
      expect(gotShape).toEqual(wantShape);
      expectSameBits(got, want, `Slice ${dtype} [${shape}] at [${begin}] size [${size}]`);
    });
  });

  it('Cast to the same dtype shares the buffer and frees it with its last reference; conversions are the stock ones', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const ids = backend.numDataIds();
    const a = tf.tensor1d([1.5, -0, 3]);
    const b = tf.cast(a, 'float32');
    expect((b as unknown as { dataId: object }).dataId).toBe((a as unknown as { dataId: object }).dataId);
    a.dispose();
    expectSameBits(b.dataSync() as Float32Array, Float32Array.from([1.5, -0, 3]), 'cast float32 → float32');
    b.dispose();
    expect(backend.numDataIds()).toBe(ids);
    const x = Float32Array.from([1.5, -2.7, 0, 3e9, -0]);
    for (const [from, to] of [
      ['float32', 'int32'],
      ['float32', 'bool'],
      ['int32', 'float32'],
      ['int32', 'int32'],
      ['bool', 'int32'],
    ] as const) {
      const run = (): Values => tf.tidy(() => tf.cast(tf.tensor(from === 'float32' ? x : Int32Array.from([1, 0, -3, 7, 1]), [5], from), to).dataSync() as Values);
      expectSameBits(run(), withStockKernels(['Cast'], run), `cast ${from} → ${to}`);
    }
  });
});

describe.skipIf(WASM_ERROR !== undefined)('the position embedding repeated over the batch', () => {
  /** The formula forward.ts used before repeatOverBatch. */
  const oldRepeat = (w: tf.Tensor2D, B: number): tf.Tensor3D => w.expandDims(0).tile([B, 1, 1]) as tf.Tensor3D;

  it.each(['wasm', 'cpu'] as const)('has tile’s values and gradient bit for bit on %s', async (backend) => {
    await tf.setBackend(backend);
    const rng = new Rng(31);
    for (const [B, T, d, nCtx] of [
      [128, 16, 256, 16],
      [3, 5, 7, 9],
      [17, 1, 33, 4],
    ]) {
      const w = spread(rng, nCtx * d, 0);
      const up = spread(rng, B * T * d, B % 4);
      const run = (repeat: (w: tf.Tensor2D, B: number) => tf.Tensor3D): Float32Array[] =>
        tf.tidy(() => {
          const W = tf.tensor2d(w, [nCtx, d]);
          const U = tf.tensor3d(up, [B, T, d]);
          const f = (x: tf.Tensor): tf.Tensor => repeat(x.slice([0, 0], [T, d]) as tf.Tensor2D, B).mul(U).tanh().sum();
          return [repeat(W.slice([0, 0], [T, d]) as tf.Tensor2D, B).dataSync() as Float32Array, tf.grad(f)(W).dataSync() as Float32Array];
        });
      const [newValue, newGrad] = run(repeatOverBatch);
      const [oldValue, oldGrad] = backend === 'wasm' ? withStockKernels(['Sum', 'Tile', 'Slice', 'Cast'], () => run(oldRepeat)) : run(oldRepeat);
      expectSameBits(newValue, oldValue, `value [${B},${T},${d}] on ${backend}`);
      expectSameBits(newGrad, oldGrad, `gradient [${B},${T},${d}] on ${backend}`);
    }
    await tf.setBackend('wasm');
  });

  it('training steps with it give the losses and parameters of the tile formula and stock kernels, bit for bit', async () => {
    await tf.setBackend('wasm');
    const c = resolveConfig({ nLayers: 2, dModel: 32, nHeads: 2, dHead: 16, dVocab: 40, nCtx: 8, mlp: true, dMlp: 64, layerNorm: true, posEmbed: true, embed: 'learned', unembed: 'learned' });
    const host = initParams(c, 9);
    const B = 24;
    const T = 8;
    const train = (old: boolean): { losses: number[]; params: Record<string, Float32Array> } => {
      const vars: Record<string, tf.Variable> = {};
      for (const s of paramSpecs(c)) vars[s.name] = tf.variable(tf.tensor(host[s.name].data, host[s.name].shape), true, `${s.name}#${old ? 'old' : 'new'}`);
      const opt = new AdamW(Object.values(vars), { name: 'adamw', lr: 1e-2, weightDecay: 0.01, beta1: 0.9, beta2: 0.98, eps: 1e-8 });
      const rng = new Rng(10);
      const losses: number[] = [];
      for (let step = 0; step < 4; step++) {
        const tokens = Int32Array.from({ length: B * T }, () => rng.int(0, c.dVocab - 1));
        const targets = Int32Array.from({ length: B }, () => rng.int(0, c.dVocab - 1));
        tf.tidy(() => {
          const tok = tf.tensor2d(tokens, [B, T], 'int32');
          const loss = (): tf.Scalar => {
            // The tile formula, swapped in through the hook as the whole position term.
            const pos = old ? oldRepeat(vars['pos_embed.W_pos'].slice([0, 0], [T, c.dModel]) as tf.Tensor2D, B) : null;
            return lastTokenLoss(c, vars, tok, tf.tensor1d(targets, 'int32'), pos ? [{ hook: 'hook_pos_embed', kind: 'replace', value: pos }] : undefined);
          };
          const { value, grads } = tf.variableGrads(loss, Object.values(vars));
          losses.push(value.dataSync()[0]);
          opt.apply(Object.values(vars).map((v) => grads[v.name]));
        });
      }
      const params = Object.fromEntries(Object.entries(vars).map(([n, v]) => [n, v.dataSync() as Float32Array]));
      opt.dispose();
      Object.values(vars).forEach((v) => v.dispose());
      return { losses, params };
    };
    const now = train(false);
    const before = withStockKernels(['Sum', 'Tile', 'Slice', 'Cast'], () => train(true));
    expectSameBits(Float64Array.from(now.losses), Float64Array.from(before.losses), 'losses');
    for (const name of Object.keys(before.params)) expectSameBits(now.params[name], before.params[name], name);
    // The steps did move the position table.
    expect(now.params['pos_embed.W_pos']).not.toEqual(host['pos_embed.W_pos'].data);
  });
});
