import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { asWasmBackend } from './wasmBackendAccess';

/**
 * tfjs-backend-wasm 4.22 ships no UnsortedSegmentSum, and the gradient of `gather` (every embedding
 * lookup) needs it. A scatter-add is memory bound and tiny next to the matmuls, so a JS loop over the
 * wasm heap is as fast as a C++ kernel would be, and avoids the 10x slower pure-JS cpu backend.
 */
const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend);
  const x = inputs.x as TensorInfo;
  const segmentIds = inputs.segmentIds as TensorInfo;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum (wasm): unsupported dtype ${x.dtype}`);
  }
  const ids = wasm.readSync(segmentIds.dataId) as Int32Array | Float32Array;
  const n = ids.length;
  const outerRank = segmentIds.shape.length;
  for (let i = 0; i < outerRank; i++) {
    if (x.shape[i] !== segmentIds.shape[i]) {
      throw new Error(`UnsortedSegmentSum (wasm): segmentIds shape ${segmentIds.shape} is not a prefix of x shape ${x.shape}`);
    }
  }
  const innerShape = x.shape.slice(outerRank);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const xs = wasm.readSync(x.dataId) as Float32Array | Int32Array;
  const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype);
  const o = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
  o.fill(0);
  for (let i = 0; i < n; i++) {
    const seg = ids[i];
    // TensorFlow drops out-of-range ids rather than failing.
    if (seg < 0 || seg >= numSegments) continue;
    const src = i * inner;
    const dst = seg * inner;
    for (let j = 0; j < inner; j++) o[dst + j] += xs[src + j];
  }
  return out;
};

export const unsortedSegmentSumWasmConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
