import type { DataType, TensorInfo, backend_util } from '@tensorflow/tfjs';

/**
 * The few public methods of tfjs-backend-wasm's BackendWasm that our JS kernels use. Declared
 * structurally so we never import the backend's deep `dist/` paths, which break once bundlers
 * externalize the package.
 */
export interface WasmBackendLike {
  readSync(dataId: object): backend_util.BackendValues;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): backend_util.TypedArray;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function asWasmBackend(backend: unknown): WasmBackendLike {
  const b = backend as Partial<WasmBackendLike>;
  if (typeof b.readSync !== 'function' || typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') {
    throw new Error('expected the wasm backend (readSync/makeOutput/typedArrayFromHeap missing)');
  }
  return b as WasmBackendLike;
}
