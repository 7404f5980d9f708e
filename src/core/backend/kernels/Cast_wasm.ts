import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

interface RefCounting {
  incRef(dataId: object): void;
}

/**
 * A cast to the tensor's own dtype shares its buffer. tfjs's gradients cast float32 inputs to float32
 * (Square, Pow, Sqrt, …: ~50 calls per training step of a 2-layer model) and the stock wasm Cast copies
 * the data each time; the cpu backend, and our Identity, share it instead. Tensor data is immutable, so
 * the values are the same bits. Real conversions keep the stock kernel.
 */
export function makeCastWasmConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    const { dtype } = args.attrs as unknown as { dtype: string };
    if (dtype !== x.dtype || (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool')) return original.kernelFunc(args);
    (args.backend as unknown as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
  return { kernelName: 'Cast', backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
}
