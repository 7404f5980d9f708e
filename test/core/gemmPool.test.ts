import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { GemmPool, gemmModule, gemmPool, gemmThreads, type GemmModule } from '../../src/core/backend/gemm/gemmPool';
import { GEMM_BATCHED_MIN_MACS, GEMM_MIN_INTENSITY, GEMM_STOCK_MACS } from '../../src/core/backend/kernels/BatchMatMul_wasm';
import { Rng } from '../../src/core/util/rng';

/**
 * The multi-threaded matmul of the wasm backend (assembly/gemm.ts through gemm/gemmPool.ts): products
 * against a float64 reference with a float32 error bound, the same bits whatever the threads and chunks,
 * and the BatchMatMul kernel sending only big unbatched products to it.
 */

function matrix(rows: number, cols: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * cols }, () => (rng.next() - 0.5) * 4);
}

/** op(A)·op(B) in float64, and Σ|a||b| per element for the error bound. */
function reference(a: Float32Array, b: Float32Array, M: number, K: number, N: number, transA: boolean, transB: boolean): { c: Float64Array; mag: Float64Array } {
  const c = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        const x = transA ? a[k * M + i] : a[i * K + k];
        const y = transB ? b[j * K + k] : b[k * N + j];
        s += x * y;
        m += Math.abs(x * y);
      }
      c[i * N + j] = s;
      mag[i * N + j] = m;
    }
  }
  return { c, mag };
}

let mod: GemmModule;
const pools: GemmPool[] = [];
const makePool = (threads: number, maxBytes = 64 * 1024 * 1024): GemmPool => {
  const p = new GemmPool(mod, threads, maxBytes);
  pools.push(p);
  return p;
};

beforeAll(() => {
  const m = gemmModule();
  if ('error' in m) throw new Error(`the gemm kernel is not available: ${m.error}`);
  mod = m;
});

afterAll(() => {
  for (const p of pools) p.dispose();
});

describe('GemmPool', () => {
  // Edge shapes: rows not a multiple of 6, columns not a multiple of 8 (and fewer than 8), K past the
  // kernel's 256-deep blocks and not a multiple of them.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [5, 3, 7],
    [6, 8, 8],
    [13, 300, 9],
    [37, 513, 21],
    [64, 64, 64],
  ];
  for (const [M, K, N] of shapes) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`${M}×${K}·${K}×${N}${transA ? ', A transposed' : ''}${transB ? ', B transposed' : ''}: within float32 rounding of the exact product`, () => {
        const a = matrix(M, K, M * 7 + K);
        const b = matrix(K, N, N * 13 + K);
        const out = new Float32Array(M * N);
        makePool(2).run({ a, b, M, K, N, transA, transB }, out);
        const { c, mag } = reference(a, b, M, K, N, transA, transB);
        for (let e = 0; e < M * N; e++) {
          // Each partial sum rounds once (twice without FMA): |error| ≤ (K + 2)·2⁻²³·Σ|a||b|.
          expect(Math.abs(out[e] - c[e])).toBeLessThanOrEqual((K + 2) * 2 ** -23 * mag[e] + 1e-30);
        }
      });
    }
  }

  it('gives the same bits on 1, 2 and 3 threads, and in chunks of rows', () => {
    const [M, K, N] = [97, 300, 45];
    for (const transA of [false, true]) {
      const a = matrix(M, K, 1);
      const b = matrix(K, N, 2);
      const run = (p: GemmPool): Float32Array => {
        const out = new Float32Array(M * N);
        p.run({ a, b, M, K, N, transA, transB: false }, out);
        return out;
      };
      const one = run(makePool(1));
      expect(run(makePool(2))).toEqual(one);
      expect(run(makePool(3))).toEqual(one);
      // Room for B, its panels and a few dozen rows: A goes in several chunks.
      const small = makePool(2, GemmPool.bytesFor(24, K, N));
      expect(small.chunkRows(M, K, N)).toBe(24);
      expect(run(small)).toEqual(one);
    }
  });

  it('computes each entry of a batch as the unbatched product would, on any number of threads', () => {
    const [E, M, K, N] = [7, 16, 64, 13];
    for (const [transA, transB] of [[false, false], [true, false], [false, true]] as const) {
      const a = matrix(E * M, K, 3);
      const b = matrix(E * K, N, 4);
      const single = makePool(1);
      const expected = new Float32Array(E * M * N);
      for (let e = 0; e < E; e++) {
        const c = new Float32Array(M * N);
        single.run({ a: a.subarray(e * M * K, (e + 1) * M * K), b: b.subarray(e * K * N, (e + 1) * K * N), M, K, N, transA, transB }, c);
        expected.set(c, e * M * N);
      }
      for (const threads of [1, 2, 3]) {
        const out = new Float32Array(E * M * N);
        makePool(threads).runBatch({ a, b, M, K, N, transA, transB, E, EA: E, EB: E, exact: false }, out);
        expect(out).toEqual(expected);
      }
    }
  });

  it('refuses a product whose right operand alone does not fit', () => {
    const p = makePool(1, GemmPool.bytesFor(0, 64, 64) + 100);
    expect(p.chunkRows(12, 64, 64)).toBe(0);
    expect(() => p.run({ a: matrix(12, 64, 1), b: matrix(64, 64, 2), M: 12, K: 64, N: 64, transA: false, transB: false }, new Float32Array(12 * 64))).toThrow(/does not fit/);
  });

  it('reads OOCR_THREADS, and refuses a bad value', () => {
    const saved = process.env.OOCR_THREADS;
    try {
      process.env.OOCR_THREADS = '3';
      expect(gemmThreads()).toBe(3);
      process.env.OOCR_THREADS = 'many';
      expect(() => gemmThreads()).toThrow(/OOCR_THREADS=many/);
      delete process.env.OOCR_THREADS;
      expect(gemmThreads()).toBeGreaterThanOrEqual(1);
    } finally {
      if (saved === undefined) delete process.env.OOCR_THREADS;
      else process.env.OOCR_THREADS = saved;
    }
  });
});

describe('BatchMatMul on wasm', () => {
  let wasm = false;
  beforeAll(async () => {
    const info = await initBackend();
    wasm = info.name === 'wasm';
  });

  const product = (a: tf.Tensor, b: tf.Tensor, transA: boolean, transB: boolean, gemm: boolean): Float32Array => {
    const saved = process.env.OOCR_GEMM;
    process.env.OOCR_GEMM = gemm ? '1' : '0';
    try {
      return tf.tidy(() => tf.matMul(a, b, transA, transB).dataSync() as Float32Array);
    } finally {
      if (saved === undefined) delete process.env.OOCR_GEMM;
      else process.env.OOCR_GEMM = saved;
    }
  };

  it('sends a big unbatched product to the pool, with or without transposes', (ctx) => {
    if (!wasm) ctx.skip('the pool serves the wasm backend only');
    const [M, K, N] = [520, 256, 130];
    expect(M * K * N).toBeGreaterThan(GEMM_STOCK_MACS);
    const p = makePool(2);
    for (const [transA, transB] of [[false, false], [true, false], [false, true]] as const) {
      const a = matrix(M, K, 5);
      const b = matrix(K, N, 6);
      const ta = tf.tensor2d(a, transA ? [K, M] : [M, K]);
      const tb = tf.tensor2d(b, transB ? [N, K] : [K, N]);
      const expected = new Float32Array(M * N);
      p.run({ a, b, M, K, N, transA, transB }, expected);
      expect(product(ta, tb, transA, transB, true)).toEqual(expected);
      // The stock kernel (XNNPACK) sums in another order: close, not equal bits.
      const stock = product(ta, tb, transA, transB, false);
      for (let e = 0; e < M * N; e += 97) expect(Math.abs(stock[e] - expected[e])).toBeLessThan(1e-3);
      tf.dispose([ta, tb]);
    }
  });

  /** Runs fn while counting the process pool's batched products. */
  const countingBatches = (fn: () => void): number => {
    const pool = gemmPool();
    if ('error' in pool) throw new Error(pool.error);
    const original = pool.runBatch.bind(pool);
    let calls = 0;
    pool.runBatch = (o, out) => ((calls += 1), original(o, out));
    try {
      fn();
    } finally {
      pool.runBatch = original;
    }
    return calls;
  };

  // Depths below, at and past the stock kernel's 48-deep blocks; broadcast operands; transposes; each at
  // least GEMM_BATCHED_MIN_MACS (smaller batches stay with the stock kernel).
  const batched: { name: string; a: number[]; b: number[]; transA?: boolean; transB?: boolean }[] = [
    { name: 'attention scores, B transposed', a: [16, 8, 16, 64], b: [16, 8, 16, 64], transB: true },
    { name: 'pattern times values', a: [32, 4, 16, 16], b: [32, 4, 16, 64] },
    { name: 'a gradient, A transposed (K = 1)', a: [128, 4, 1, 16], b: [128, 4, 1, 64], transA: true },
    { name: 'K = 48, 49 and 200', a: [12, 7, 200], b: [12, 200, 49] },
    { name: 'one B for every entry', a: [40, 13, 97], b: [1, 97, 11] },
    { name: 'one A for every entry, rank 2 against rank 3', a: [13, 49], b: [64, 49, 21] },
  ];
  for (const c of batched) {
    it(`takes a batched product (${c.name}) with the stock kernel's exact bits`, (ctx) => {
      if (!wasm) ctx.skip('the pool serves the wasm backend only');
      const size = (shape: number[]): number => shape.reduce((x, y) => x * y, 1);
      const [M, K] = c.transA ? c.a.slice(-2).reverse() : c.a.slice(-2);
      const N = c.transB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
      expect(Math.max(size(c.a.slice(0, -2)), size(c.b.slice(0, -2))) * M * K * N).toBeGreaterThanOrEqual(GEMM_BATCHED_MIN_MACS);
      const ta = tf.tensor(matrix(1, size(c.a), 7), c.a);
      const tb = tf.tensor(matrix(1, size(c.b), 8), c.b);
      let ours: Float32Array | undefined;
      expect(countingBatches(() => (ours = product(ta, tb, c.transA ?? false, c.transB ?? false, true)))).toBe(1);
      const stock = product(ta, tb, c.transA ?? false, c.transB ?? false, false);
      expect(ours).toEqual(stock);
      expect(tf.tidy(() => tf.matMul(ta, tb, c.transA, c.transB).shape)).toEqual(tf.tidy(() => tf.matMul(ta.reshape(c.a), tb.reshape(c.b), c.transA, c.transB).shape));
      tf.dispose([ta, tb]);
    });
  }

  it('leaves small products, and batches that broadcast both ways, to the stock kernel', (ctx) => {
    if (!wasm) ctx.skip('the pool serves the wasm backend only');
    const small = [tf.tensor2d(matrix(16, 32, 1), [16, 32]), tf.tensor2d(matrix(32, 8, 2), [32, 8])] as const;
    expect(product(small[0], small[1], false, false, true)).toEqual(product(small[0], small[1], false, false, false));
    // Big but with little work per element copied (a vocabulary-sized matrix times a few vectors).
    const [M, K, N] = [20000, 768, 2];
    expect(M * K * N).toBeGreaterThan(GEMM_STOCK_MACS);
    expect((M * K * N) / (M * K + K * N + M * N)).toBeLessThan(GEMM_MIN_INTENSITY);
    const thin = [tf.tensor2d(matrix(M, K, 3), [M, K]), tf.tensor2d(matrix(N, K, 4), [N, K])] as const;
    expect(product(thin[0], thin[1], false, true, true)).toEqual(product(thin[0], thin[1], false, true, false));
    const both = [tf.tensor4d(matrix(64 * 50, 80, 3), [64, 1, 50, 80]), tf.tensor4d(matrix(3 * 80, 40, 4), [1, 3, 80, 40])] as const;
    let ours: Float32Array | undefined;
    expect(countingBatches(() => (ours = product(both[0], both[1], false, false, true)))).toBe(0);
    expect(ours).toEqual(product(both[0], both[1], false, false, false));
    const few = [tf.tensor3d(matrix(4 * 16, 16, 5), [4, 16, 16]), tf.tensor3d(matrix(4 * 16, 16, 6), [4, 16, 16])] as const;
    expect(countingBatches(() => (ours = product(few[0], few[1], false, false, true)))).toBe(0);
    tf.dispose([...small, ...thin, ...both, ...few]);
  });
});
