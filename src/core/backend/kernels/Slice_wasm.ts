import { slice_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { asWasmBackend } from './wasmBackendAccess';

/**
 * Slice reading the input in place. The stock wasm Slice first copies the whole input out of the wasm
 * heap (readSync) and then copies the slice from that copy: taking one [16, 256] row block of a
 * [128, 16, 256] tensor cost as much as copying all of it. Here the rows are copied straight from a
 * heap view, the trailing axes that are taken whole merged into one row. A pure copy: the stock
 * kernel's result bit for bit. Strings and complex numbers keep the stock kernel.
 */
export function makeSliceWasmConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as TensorInfo;
    if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return original.kernelFunc(args);
    const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = slice_util.parseSliceParams(x, begin, size);
    const rank = x.shape.length;
    const wasm = asWasmBackend(backend);
    const out = wasm.makeOutput(s, x.dtype);
    const n = util.sizeFromShape(s);
    if (n === 0) return out;
    // Heap views only after makeOutput, which may grow (and so detach) the heap.
    const src = wasm.typedArrayFromHeap(x);
    const dst = wasm.typedArrayFromHeap(out);
    const strides = new Array<number>(rank);
    let stride = 1;
    for (let i = rank - 1; i >= 0; i--) {
      strides[i] = stride;
      stride *= x.shape[i];
    }
    // Axes q+1.. are taken whole, so each index tuple over axes 0..q is one contiguous run of `row`.
    let q = rank - 1;
    while (q > 0 && b[q] === 0 && s[q] === x.shape[q]) q--;
    const row = rank === 0 ? 1 : s[q] * strides[q];
    let srcOffset = 0;
    for (let i = 0; i < rank; i++) srcOffset += b[i] * strides[i];
    // An odometer over the output indices of axes 0..q-1.
    const idx = new Array<number>(Math.max(q, 0)).fill(0);
    for (let o = 0; o < n; o += row) {
      dst.set(src.subarray(srcOffset, srcOffset + row), o);
      for (let i = q - 1; i >= 0; i--) {
        srcOffset += strides[i];
        if (++idx[i] < s[i]) break;
        idx[i] = 0;
        srcOffset -= s[i] * strides[i];
      }
    }
    return out;
  };
  return { kernelName: 'Slice', backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
}
