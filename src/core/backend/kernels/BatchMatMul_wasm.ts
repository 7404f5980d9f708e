import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { gemmPool, GemmPool } from '../gemm/gemmPool';
import { asWasmBackend, type WasmBackendLike } from './wasmBackendAccess';

/**
 * Products with more than this many multiply-adds (~34 MFLOP, ~1 ms on one core) go to the multi-threaded
 * FMA kernel (gemm/gemmPool.ts), whose sums are rounded differently from XNNPACK's. Up to it the gain is
 * small (the operands are copied in and out, the helper threads woken), and every product of a training
 * step of the shipped presets is at most this (two-hop's and reversal's largest are exactly 2²⁴;
 * test/core/gemmThresholds.test.ts), so they keep XNNPACK's numbers and their runs reproduce bit for bit.
 */
export const GEMM_STOCK_MACS = 2 ** 24;

/**
 * Batched products (attention's, one per batch row and head) with more than this many multiply-adds in
 * all: the stock kernel runs a batch of more than one through a plain C loop, ~10× slower than XNNPACK,
 * so the pool pays off sooner. The shipped presets' training steps stay at or below it.
 */
export const GEMM_STOCK_BATCHED_MACS = 2 ** 20;

const entries = (t: TensorInfo): number => t.shape.slice(0, -2).reduce((x, y) => x * y, 1);

/** The pool when a product should use it: float32, big enough, and fits; batched only without broadcasting. */
function poolFor(a: TensorInfo, b: TensorInfo, M: number, K: number, N: number): GemmPool | null {
  if (process.env.OOCR_GEMM === '0' || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const E = entries(a);
  if (E === 1 && entries(b) === 1) {
    if (M * K * N <= GEMM_STOCK_MACS) return null;
    const p = gemmPool();
    return 'error' in p || p.chunkRows(M, K, N) === 0 ? null : p;
  }
  if (a.shape.length !== b.shape.length || a.shape.slice(0, -2).some((d, i) => d !== b.shape[i]) || E * M * K * N <= GEMM_STOCK_BATCHED_MACS) return null;
  const p = gemmPool();
  return 'error' in p || p.batchBytes(E, M, K, N) > p.maxBytes ? null : p;
}

function runOnPool(pool: GemmPool, wasm: WasmBackendLike, a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): TensorInfo {
  const [M, K] = transA ? a.shape.slice(-2).reverse() : a.shape.slice(-2);
  const N = transB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const E = entries(a);
  const rank = Math.max(a.shape.length, b.shape.length);
  const lead = E === 1 ? new Array<number>(rank - 2).fill(1) : a.shape.slice(0, -2);
  const out = wasm.makeOutput([...lead, M, N], 'float32');
  // Views after makeOutput: allocating may grow the backend's heap and detach older ones.
  const operands = { a: wasm.typedArrayFromHeap(a) as Float32Array, b: wasm.typedArrayFromHeap(b) as Float32Array, M, K, N, transA, transB };
  const c = wasm.typedArrayFromHeap(out) as Float32Array;
  if (E === 1) pool.run(operands, c);
  else pool.runBatch({ ...operands, E }, c);
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
    const [M, K] = transposeA ? a.shape.slice(-2).reverse() : a.shape.slice(-2);
    const N = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const pool = poolFor(a, b, M, K, N);
    if (pool) return runOnPool(pool, asWasmBackend(backend), a, b, transposeA, transposeB);
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
