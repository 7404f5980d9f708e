import * as tf from '@tensorflow/tfjs';
import { util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
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
  sumRows(x: number, out: number, rows: number, cols: number): void;
  repeatEach(src: number, dst: number, n: number, reps: number): void;
  layerNormForward(x: number, w: number, b: number, y: number, mean: number, rstd: number, R: number, D: number, eps: number): void;
  layerNormBackward(dy: number, x: number, w: number, mean: number, rstd: number, dx: number, dw: number, db: number, R: number, D: number): void;
}

export const GELU_KERNEL = 'OocrGeluTanh';
export const GELU_GRAD_KERNEL = 'OocrGeluTanhGrad';
export const ADAMW_KERNEL = 'OocrAdamW';
export const LAYER_NORM_KERNEL = 'OocrLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'OocrLayerNormGrad';

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
    const bytes = readBuiltWasm('oocr-inplace.wasm');
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

/** Byte offset of a tensor's data in the backend's memory. */
type Offset = (t: TensorInfo) => number;

/**
 * Makes float32 outputs of these shapes, then calls `run` with the kernels' exports and tensors' byte
 * offsets, taken after makeOutput (which may grow the memory, detaching older views of it).
 */
function inPlace(backend: unknown, outShapes: number[][], run: (e: InplaceExports, at: Offset, outs: TensorInfo[]) => void): TensorInfo[] {
  const wasm = asWasmBackend(backend);
  const outs = outShapes.map((shape) => wasm.makeOutput(shape, 'float32'));
  run(exportsFor(backend), (t) => wasm.typedArrayFromHeap(t).byteOffset, outs);
  return outs;
}

const size = (t: TensorInfo): number => util.sizeFromShape(t.shape);

const geluConfig: KernelConfig = {
  kernelName: GELU_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x as TensorInfo;
    return inPlace(backend, [x.shape], (e, at, [y]) => e.geluForward(at(x), at(y), size(x)))[0];
  },
};

const geluGradConfig: KernelConfig = {
  kernelName: GELU_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x as TensorInfo;
    const dy = inputs.dy as TensorInfo;
    return inPlace(backend, [x.shape], (e, at, [dx]) => e.geluBackward(at(x), at(dy), at(dx), size(x)))[0];
  },
};

/** Outputs [p, m, v] after one AdamW step from inputs p, g, m, v (float32, one shape). */
const adamwConfig: KernelConfig = {
  kernelName: ADAMW_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const [p, g, m, v] = (['p', 'g', 'm', 'v'] as const).map((k) => inputs[k] as TensorInfo);
    const a = attrs as unknown as AdamWKernelAttrs;
    return inPlace(backend, [p.shape, p.shape, p.shape], (e, at, [p2, m2, v2]) =>
      e.adamw(at(p), at(g), at(m), at(v), at(p2), at(m2), at(v2), size(p), a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.bc1, a.bc2, a.eps, a.decay, a.lr),
    );
  },
};

/**
 * Sums the rows of x ([rows, cols] as stored) into out ([cols]) in tfjs's order, in the backend's memory;
 * false when the kernels are not built (the caller then loops in JS).
 */
export function sumRowsInPlace(backend: unknown, x: TensorInfo, out: TensorInfo, rows: number, cols: number): boolean {
  if (inplaceKernelsUnavailable()) return false;
  inPlace(backend, [], (e, at) => e.sumRows(at(x), at(out), rows, cols));
  return true;
}

/** out = each 32-bit element of x repeated `reps` times, in the backend's memory; false when not built. */
export function repeatEachInPlace(backend: unknown, x: TensorInfo, out: TensorInfo, n: number, reps: number): boolean {
  if (inplaceKernelsUnavailable()) return false;
  inPlace(backend, [], (e, at) => e.repeatEach(at(x), at(out), n, reps));
  return true;
}

/** Inputs x [..., D], w [D], b [D], attr eps → outputs y (x's shape), mean and rstd (one per row). */
const layerNormConfig: KernelConfig = {
  kernelName: LAYER_NORM_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const [x, w, b] = (['x', 'w', 'b'] as const).map((k) => inputs[k] as TensorInfo);
    const D = x.shape[x.shape.length - 1];
    const R = size(x) / D;
    const { eps } = attrs as unknown as { eps: number };
    return inPlace(backend, [x.shape, [R], [R]], (e, at, [y, mean, rstd]) => e.layerNormForward(at(x), at(w), at(b), at(y), at(mean), at(rstd), R, D, eps));
  },
};

/** Inputs dy, x, w, mean, rstd → outputs dx, dw, db. */
const layerNormGradConfig: KernelConfig = {
  kernelName: LAYER_NORM_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const [dy, x, w, mean, rstd] = (['dy', 'x', 'w', 'mean', 'rstd'] as const).map((k) => inputs[k] as TensorInfo);
    const D = x.shape[x.shape.length - 1];
    return inPlace(backend, [x.shape, [D], [D]], (e, at, [dx, dw, db]) => e.layerNormBackward(at(dy), at(x), at(w), at(mean), at(rstd), at(dx), at(dw), at(db), size(x) / D, D));
  },
};

/** Whether one of these kernels can serve now: the current backend is wasm and the kernel registered. */
export function inPlaceKernelServes(kernelName: string): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(kernelName, 'wasm') !== undefined;
}

/** Registers the in-place kernels on the wasm backend when they are built; returns whether they were. */
export function registerInplaceKernels(): boolean {
  if (inplaceKernelsUnavailable()) return false;
  for (const config of [geluConfig, geluGradConfig, adamwConfig, layerNormConfig, layerNormGradConfig]) if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  return true;
}
