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

/**
 * The backend's WebAssembly memory (Emscripten's module keeps it as asm.memory), for kernels of our own
 * that work in it (inplaceKernels.ts).
 */
export function wasmMemoryOf(backend: unknown): WebAssembly.Memory {
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error("the wasm backend's memory is not reachable (wasm.asm.memory)");
  return memory;
}
