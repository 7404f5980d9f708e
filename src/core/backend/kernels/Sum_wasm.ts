import { backend_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { sumRowsInPlace } from './inplaceKernels';
import { asWasmBackend } from './wasmBackendAccess';

/**
 * Float32 Sum over leading axes (axis [0], [0, 1], … in that order), without the transpose.
 *
 * The stock wasm Sum moves the reduced axes innermost (a full Transpose of the input) and then, in C++,
 * adds each row left to right in float32 starting from 0. For reduced axes 0..k-1 that row for output j
 * is x[0][j], x[1][j], … in row-major order of the reduced indices, so accumulating whole input rows
 * into the output vector in that same order, `o[j] += x[r][j]` for r = 0, 1, …, performs the same
 * float32 additions in the same order: bit-identical results, and no transpose. The loop runs in
 * assembly/inplace.ts (SIMD across columns) where built, else in JS (fround after each addition: a float32
 * + float32 computed in double and rounded to float32 is the float32 sum). Every bias gradient and
 * every broadcast-add gradient reduces leading axes; [2048, 1024] over axis 0 took 23 ms stock.
 *
 * Other cases (non-float32, empty tensors, axes that are not exactly 0..k-1 in this order, all axes,
 * which the stock kernel sums without a transpose) go to the stock kernel.
 */
export function makeSumWasmConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as TensorInfo;
    const { axis, keepDims } = attrs as unknown as { axis: number | number[] | null; keepDims: boolean };
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank < 2) return original.kernelFunc(args);
    const axes = util.parseAxisParam(axis as number | number[], x.shape);
    const k = axes.length;
    // The stock permutation keeps the caller's axis order, which is the summation order: only exactly
    // 0, 1, …, k-1 is the row-major order this kernel uses.
    if (k === 0 || k >= rank || axes.some((a, i) => a !== i)) return original.kernelFunc(args);
    const size = util.sizeFromShape(x.shape);
    if (size === 0) return original.kernelFunc(args);
    const outShape = x.shape.slice(k);
    const cols = util.sizeFromShape(outShape);
    const rows = size / cols;
    const wasm = asWasmBackend(backend);
    const out = wasm.makeOutput(outShape, 'float32');
    if (!sumRowsInPlace(backend, x, out, rows, cols)) {
      // Heap views only after makeOutput, which may grow (and so detach) the heap.
      const src = wasm.typedArrayFromHeap(x) as Float32Array;
      const dst = wasm.typedArrayFromHeap(out) as Float32Array;
      // acc[j] starts at +0 (so a -0 sum comes out +0, as the stock kernel's) and takes the rows in
      // order, each addition rounded to float32 (fround).
      const acc = new Float32Array(cols);
      const f = Math.fround;
      for (let r = 0; r < rows; r++) {
        const b = r * cols;
        for (let j = 0; j < cols; j++) acc[j] = f(acc[j] + src[b + j]);
      }
      dst.set(acc);
    }
    if (keepDims) out.shape = backend_util.expandShapeToKeepDim(outShape, axes);
    return out;
  };
  return { kernelName: 'Sum', backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
}
