export type BackendName = 'webgpu' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * Order of preference at start-up (DESIGN.md §2, with WebGPU first: a real GPU adapter through Dawn,
 * the portable GPU path; software adapters are skipped as slower than wasm).
 */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** run.json's backend when the fused wasm kernel (src/core/fused) trained the run on top of wasm. */
export const FUSED_BACKEND = 'wasm-fused';

/** Every value run.json's `backend` can hold: a compute backend, or the fused kernel. */
export const RUN_BACKENDS: readonly string[] = [...BACKEND_ORDER, FUSED_BACKEND];

/** A WebGPU adapter as Dawn describes it. */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasteriser (SwiftShader, llvmpipe/lavapipe) or Dawn's fallback adapter. */
  software: boolean;
}

export interface BackendInfo {
  name: BackendName;
  /** Backends tried before `name` and why each failed. */
  tried: { name: BackendName; error: string }[];
  tfjsVersion: string;
  threads?: number;
  /** On wasm: how big matrix products run (our multi-threaded kernel, or why the stock one). */
  matmul?: string;
  /** With the webgpu backend: the adapter it runs on. */
  adapter?: GpuAdapterInfo;
}
