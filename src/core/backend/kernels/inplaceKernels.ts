import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { readBuiltWasm } from '../builtWasm';
import { asWasmBackend, wasmMemoryOf } from './wasmBackendAccess';

/**
 * Kernels of assembly/inplace.ts (out/fused/oocr-inplace.wasm), instantiated on tfjs-backend-wasm's own
 * memory so they read and write tensors where they live. Registered on the wasm backend under our own
 * kernel names; ops call them through the engine (src/core/model/geluOp.ts).
 */

interface InplaceExports {
  geluForward(x: number, y: number, n: number): void;
  geluBackward(x: number, dy: number, dx: number, n: number): void;
  adamw(p: number, g: number, m: number, v: number, p2: number, m2: number, v2: number, n: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, bc1: number, bc2: number, eps: number, decay: number, lr: number): void;
}

export const GELU_KERNEL = 'OocrGeluTanh';
export const GELU_GRAD_KERNEL = 'OocrGeluTanhGrad';
export const ADAMW_KERNEL = 'OocrAdamW';

/** AdamW's scalars as src/core/train/adamw.ts computes them (in float64; the kernel rounds them to float32). */
export interface AdamWKernelAttrs {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  bc1: number;
  bc2: number;
  eps: number;
  decay: number;
  lr: number;
}

let module: WebAssembly.Module | { error: string } | undefined;
const instances = new WeakMap<WebAssembly.Memory, InplaceExports>();

function compiled(): WebAssembly.Module | { error: string } {
  if (module) return module;
  try {
    const bytes = readBuiltWasm('oocr-inplace.wasm', 'inplace.ts');
    if (!WebAssembly.validate(bytes)) throw new Error('this runtime cannot run the kernel (WebAssembly SIMD)');
    module = new WebAssembly.Module(bytes);
  } catch (err) {
    module = { error: err instanceof Error ? err.message : String(err) };
  }
  return module;
}

/** Why the in-place kernels cannot run (not built, stale, no SIMD), or null. */
export function inplaceKernelsUnavailable(): string | null {
  const m = compiled();
  return 'error' in m ? m.error : null;
}

function exportsFor(backend: unknown): InplaceExports {
  const memory = wasmMemoryOf(backend);
  let e = instances.get(memory);
  if (!e) {
    const m = compiled();
    if ('error' in m) throw new Error(m.error);
    e = new WebAssembly.Instance(m, { env: { memory } }).exports as unknown as InplaceExports;
    instances.set(memory, e);
  }
  return e;
}

const geluConfig: KernelConfig = {
  kernelName: GELU_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const wasm = asWasmBackend(backend);
    const x = inputs.x as TensorInfo;
    const out = wasm.makeOutput(x.shape, 'float32');
    const n = x.shape.reduce((a, b) => a * b, 1);
    // Offsets after makeOutput, which may grow the memory.
    exportsFor(backend).geluForward(wasm.typedArrayFromHeap(x).byteOffset, wasm.typedArrayFromHeap(out).byteOffset, n);
    return out;
  },
};

const geluGradConfig: KernelConfig = {
  kernelName: GELU_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const wasm = asWasmBackend(backend);
    const x = inputs.x as TensorInfo;
    const dy = inputs.dy as TensorInfo;
    const out = wasm.makeOutput(x.shape, 'float32');
    const n = x.shape.reduce((a, b) => a * b, 1);
    exportsFor(backend).geluBackward(wasm.typedArrayFromHeap(x).byteOffset, wasm.typedArrayFromHeap(dy).byteOffset, wasm.typedArrayFromHeap(out).byteOffset, n);
    return out;
  },
};

/** Outputs [p, m, v] after one AdamW step from inputs p, g, m, v (float32, one shape). */
const adamwConfig: KernelConfig = {
  kernelName: ADAMW_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = asWasmBackend(backend);
    const [p, g, m, v] = (['p', 'g', 'm', 'v'] as const).map((k) => inputs[k] as TensorInfo);
    const a = attrs as unknown as AdamWKernelAttrs;
    const outs = [p, m, v].map((t) => wasm.makeOutput(t.shape, 'float32'));
    const n = p.shape.reduce((x, y) => x * y, 1);
    const at = (t: TensorInfo): number => wasm.typedArrayFromHeap(t).byteOffset;
    exportsFor(backend).adamw(at(p), at(g), at(m), at(v), at(outs[0]), at(outs[1]), at(outs[2]), n, a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.bc1, a.bc2, a.eps, a.decay, a.lr);
    return outs;
  },
};

/** Registers the in-place kernels on the wasm backend when they are built; returns whether they were. */
export function registerInplaceKernels(): boolean {
  if (inplaceKernelsUnavailable()) return false;
  for (const config of [geluConfig, geluGradConfig, adamwConfig]) if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  return true;
}
