import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { gemmPool, GemmPool } from '../gemm/gemmPool';
import { asWasmBackend, type WasmBackendLike } from './wasmBackendAccess';

/**
 * Products with more than this many multiply-adds (~34 MFLOP, ~1 ms on one core) go to the multi-threaded
 * FMA kernel (gemm/gemmPool.ts), whose sums are rounded differently from XNNPACK's. Up to it the gain is
 * small (the operands are copied in and out, the helper threads woken), and every product of a training
 * step of the shipped presets is at most this (two-hop's and reversal's largest are exactly 2²⁴;
 * test/core/wasmKernelThresholds.test.ts), so they keep XNNPACK's numbers and their runs reproduce bit for bit.
 */
export const GEMM_STOCK_MACS = 2 ** 24;

/**
 * And at least this many multiply-adds per float copied in and out (M·K·N / (M·K + K·N + M·N)): the pool
 * copies its operands, tfjs's matmul reads them in place, so a product with little work per element loses
 * more to the copy (~1 ns a float, cold) than it gains (~0.04 ns a multiply-add): a real model's
 * unembedding or projections at a few tokens, where the weights are most of what is copied.
 */
export const GEMM_MIN_INTENSITY = 32;

/**
 * Smaller batches stay with the stock kernel: same bits either way, and copying them in and out of the
 * pool's memory costs more than its faster loop saves (world-base's attention, 512 × 6 × 16 × 6).
 */
export const GEMM_BATCHED_MIN_MACS = 2 ** 19;

const entries = (t: TensorInfo): number => t.shape.slice(0, -2).reduce((x, y) => x * y, 1);

/** A product the pool takes: its shape as op(A) [M, K] · op(B) [K, N], E entries (EA and EB stored). */
type Plan = { pool: GemmPool; M: number; K: number; N: number; E: number; EA: number; EB: number } | null;

/**
 * Which products the pool takes. Unbatched ones above GEMM_STOCK_MACS with GEMM_MIN_INTENSITY, in its
 * fast (FMA) flavour. Batched ones (attention's: one product per batch row and head) from
 * GEMM_BATCHED_MIN_MACS whose batch shapes match or one side is a single matrix, in its exact flavour:
 * tfjs-backend-wasm runs a batch through a plain C loop (~10× slower than XNNPACK) whose bits the exact
 * flavour reproduces, so they move with the numbers unchanged, split by entry between threads.
 */
function plan(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): Plan {
  if (process.env.OOCR_GEMM === '0' || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const [M, K] = transA ? a.shape.slice(-2).reverse() : a.shape.slice(-2);
  const N = transB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const EA = entries(a);
  const EB = entries(b);
  if (EA === 1 && EB === 1) {
    if (M * K * N <= GEMM_STOCK_MACS || (M * K * N) / (M * K + K * N + M * N) < GEMM_MIN_INTENSITY) return null;
    const pool = gemmPool();
    return 'error' in pool || pool.chunkRows(M, K, N) === 0 ? null : { pool, M, K, N, E: 1, EA, EB };
  }
  const lead = (t: TensorInfo): number[] => t.shape.slice(0, -2);
  const same = a.shape.length === b.shape.length && lead(a).every((d, i) => d === lead(b)[i]);
  const E = Math.max(EA, EB);
  if ((!same && EA !== 1 && EB !== 1) || E * M * K * N < GEMM_BATCHED_MIN_MACS) return null;
  const pool = gemmPool();
  return 'error' in pool || pool.batchBytes({ E, EA, EB, M, K, N }) > pool.maxBytes ? null : { pool, M, K, N, E, EA, EB };
}

function runOnPool(p: NonNullable<Plan>, wasm: WasmBackendLike, a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): TensorInfo {
  const { M, K, N } = p;
  // The output's batch dims as tfjs broadcasts them: the batched side's when the other is one matrix.
  const rank = Math.max(a.shape.length, b.shape.length);
  const lead = p.E === 1 ? [] : (p.EA === p.E ? a : b).shape.slice(0, -2);
  const out = wasm.makeOutput([...new Array<number>(rank - 2 - lead.length).fill(1), ...lead, M, N], 'float32');
  // Views after makeOutput: allocating may grow the backend's heap and detach older ones.
  const operands = { a: wasm.typedArrayFromHeap(a) as Float32Array, b: wasm.typedArrayFromHeap(b) as Float32Array, M, K, N, transA, transB };
  const c = wasm.typedArrayFromHeap(out) as Float32Array;
  if (p.E === 1) p.pool.run(operands, c);
  else p.pool.runBatch({ ...operands, E: p.E, EA: p.EA, EB: p.EB, exact: true }, c);
  return out;
}

/**
 * The wasm BatchMatMul is ~10x slower with transpose flags than without (measured: 2.3 vs 23 GFLOP/s
 * on a 4032x128x128 product), and every matmul gradient uses the flags. Materialising the transpose
 * first (a memory-bound copy) and calling the plain kernel is much faster. Built from the original
 * kernel functions, so numerics are the backend's own.
 */
export function makeBatchMatMulWasmConfig(original: KernelConfig, transpose: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const p = plan(a, b, transposeA, transposeB);
    if (p) return runOnPool(p, asWasmBackend(backend), a, b, transposeA, transposeB);
    if (!transposeA && !transposeB) return original.kernelFunc(args);
    const wasm = asWasmBackend(backend);
    const swapLast = (t: TensorInfo): TensorInfo => {
      const rank = t.shape.length;
      const perm = [...Array(rank).keys()];
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
      return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
    };
    const at = transposeA ? swapLast(a) : a;
    const bt = transposeB ? swapLast(b) : b;
    try {
      return original.kernelFunc({ inputs: { a: at, b: bt }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      if (at !== a) wasm.disposeData(at.dataId);
      if (bt !== b) wasm.disposeData(bt.dataId);
    }
  };
  // The wasm kernel binds its C++ function in setupFunc when the backend initialises: keep it.
  return { kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
}
