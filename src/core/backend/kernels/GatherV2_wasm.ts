import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { asWasmBackend } from './wasmBackendAccess';

/**
 * Row gather (axis 0, no batch dims) for wasm: every embedding lookup, and every projection of a
 * one-hot residual stream. The stock wasm GatherV2 took 16 ms for 4032 rows of 128 floats (per-element
 * strided C++ plus a closure per index); copying whole rows with TypedArray.set takes well under 1 ms.
 * Other axes go to the original kernel.
 */
export function makeGatherV2WasmConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { axis, batchDims } = attrs as { axis: number; batchDims: number };
    const x = inputs.x as TensorInfo;
    const indices = inputs.indices as TensorInfo;
    if ((axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || x.shape.length === 0 || (x.dtype !== 'float32' && x.dtype !== 'int32')) {
      return original.kernelFunc(args);
    }
    const wasm = asWasmBackend(backend);
    const idx = wasm.readSync(indices.dataId) as Int32Array | Float32Array;
    const rows = x.shape[0];
    const rowSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      if (!(r >= 0 && r < rows)) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
    }
    const out = wasm.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views into the wasm heap: take them after makeOutput, which may grow (and so detach) the heap.
    const src = wasm.typedArrayFromHeap(x) as Float32Array | Int32Array;
    const dst = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      dst.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
    }
    return out;
  };
  return { kernelName: 'GatherV2', backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
}
