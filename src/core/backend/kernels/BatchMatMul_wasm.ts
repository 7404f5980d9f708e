import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { asWasmBackend } from './wasmBackendAccess';

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
    if (!transposeA && !transposeB) return original.kernelFunc(args);
    const wasm = asWasmBackend(backend);
    const swapLast = (t: TensorInfo): TensorInfo => {
      const rank = t.shape.length;
      const perm = [...Array(rank).keys()];
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
      return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
    };
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
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
