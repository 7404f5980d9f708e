import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { repeatEachInPlace } from './inplaceKernels';
import { asWasmBackend } from './wasmBackendAccess';

/**
 * Tile as block copies. The stock wasm Tile builds two std::vectors per output element to find its
 * source (27 ms to repeat a [1, 16, 256] position table 128 times); here x is copied once into the
 * leading corner of the output and then each tiled axis, innermost first, is filled by repeating the
 * block already written (copyWithin). A pure copy of the same elements: the results are the stock
 * kernel's bit for bit. Strings and complex numbers keep the stock kernel.
 */
export function makeTileWasmConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as TensorInfo;
    const { reps } = attrs as unknown as { reps: number[] };
    const rank = x.shape.length;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') || rank === 0 || reps.length !== rank) return original.kernelFunc(args);
    const outShape = x.shape.map((s, i) => s * reps[i]);
    const wasm = asWasmBackend(backend);
    const out = wasm.makeOutput(outShape, x.dtype);
    if (util.sizeFromShape(outShape) === 0) return out;
    // A trailing axis of 1 repeated (a broadcast gradient, e.g. LayerNorm's mean): each element `reps`
    // times, in assembly/inplace.ts where built.
    const last = reps[rank - 1];
    if (x.dtype !== 'bool' && x.shape[rank - 1] === 1 && last > 1 && reps.every((r, i) => r === 1 || i === rank - 1) && repeatEachInPlace(backend, x, out, util.sizeFromShape(x.shape), last)) return out;
    // Integer views, so that the element loop below copies bits (NaN payloads included), as set and
    // copyWithin do.
    const bits = (t: TensorInfo): Int32Array | Uint8Array => {
      const a = wasm.typedArrayFromHeap(t);
      return t.dtype === 'bool' ? (a as Uint8Array) : new Int32Array(a.buffer, a.byteOffset, a.length);
    };
    const src = bits(x);
    const dst = bits(out);
    const outStrides = new Array<number>(rank);
    outStrides[rank - 1] = 1;
    for (let i = rank - 2; i >= 0; i--) outStrides[i] = outStrides[i + 1] * outShape[i + 1];
    // The innermost tiled axis: from it on, x's sub-block at fixed outer indices is contiguous in both x
    // and the output (all axes inside it keep their length).
    let b = rank - 1;
    while (b >= 0 && reps[b] === 1) b--;
    if (b < 0) {
      dst.set(src);
      return out;
    }
    // Offsets in the output of the blocks at indices (i_0, …, i_{d-1}), each i_j < x.shape[j], in row-major order.
    const cornerOffsets = (d: number): number[] => {
      let offs = [0];
      for (let j = 0; j < d; j++) {
        const next: number[] = [];
        for (const o of offs) for (let i = 0; i < x.shape[j]; i++) next.push(o + i * outStrides[j]);
        offs = next;
      }
      return offs;
    };
    const block = x.shape[b] * outStrides[b];
    cornerOffsets(b).forEach((o, i) => dst.set(src.subarray(i * block, (i + 1) * block), o));
    for (let d = b; d >= 0; d--) {
      if (reps[d] === 1) continue;
      const chunk = x.shape[d] * outStrides[d];
      for (const o of cornerOffsets(d)) {
        if (chunk >= 32) {
          for (let r = 1; r < reps[d]; r++) dst.copyWithin(o + r * chunk, o, o + chunk);
        } else {
          for (let r = 1; r < reps[d]; r++) for (let t = 0; t < chunk; t++) dst[o + r * chunk + t] = dst[o + t];
        }
      }
    }
    return out;
  };
  return { kernelName: 'Tile', backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
}
