export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Order of preference at start-up (DESIGN.md §2). */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** Backends tried before `name` and why each failed. */
  tried: { name: BackendName; error: string }[];
  tfjsVersion: string;
  threads?: number;
}
