import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

interface RefCounting {
  incRef(dataId: object): void;
}

/**
 * The engine clones every tensor it saves for the backward pass (≈35 Identity calls per training step
 * of the OCR preset), and the stock wasm Identity copies the data each time: 10–14% of a step. Tensor
 * data is immutable in tfjs, so sharing the buffer and counting references, as the cpu backend and
 * wasm's own Reshape do, is equivalent. Strings keep the original kernel.
 */
export function makeIdentityWasmConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return original.kernelFunc(args);
    (args.backend as unknown as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
  return { kernelName: 'Identity', backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
}
