import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { BACKEND_ORDER, type BackendInfo, type BackendName } from '../../shared/backend';
import { registerExactGradients } from './exactGradients';
import { gemmModule, gemmThreads } from './gemm/gemmPool';
import { registerWasmKernels } from './kernels/registerWasmKernels';
import { startWebGpuBackend, WEBGPU_SYNC_READS } from './webgpu';

export interface InitBackendOptions {
  /** Force one backend (fails if it cannot start) instead of the preference order. */
  backend?: BackendName;
  /**
   * The caller reads tensors back only asynchronously (`await tensor.data()`): training jobs
   * (src/core/train). Only such a caller gets the webgpu backend, which cannot read synchronously in
   * Node (webgpu.ts); for any other, WebGPU is skipped in the order, and refused when forced.
   */
  asyncReads?: boolean;
}

let current: BackendInfo | undefined;

/** What each backend name means in tfjs's registry. */
const TFJS_NAME: Record<BackendName, string> = {
  webgpu: 'webgpu',
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

async function tryStart(name: BackendName, forced: boolean, asyncReads: boolean): Promise<Partial<BackendInfo>> {
  switch (name) {
    case 'webgpu':
      // Not even probed for work that reads synchronously (no Dawn instance, no driver messages).
      if (!asyncReads) {
        const why = `training only: ${WEBGPU_SYNC_READS}, and this work reads that way`;
        throw new Error(forced ? `${why}; run it on wasm (--backend wasm, or no --backend)` : why);
      }
      // A software adapter only when forced.
      return { adapter: await startWebGpuBackend(forced) };
    case 'tensorflow-gpu':
      // Optional dependency: absent wherever libtensorflow could not be downloaded at install time.
      await import('@tensorflow/tfjs-node-gpu' as string);
      break;
    case 'tensorflow':
      await import('@tensorflow/tfjs-node' as string);
      break;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmKernels();
      break;
    case 'cpu':
      break;
  }
  const ok = await tf.setBackend(TFJS_NAME[name]);
  if (!ok) throw new Error(`tf.setBackend('${TFJS_NAME[name]}') returned false`);
  await tf.ready();
  return {};
}

/** Whether the started backend serves a caller: its forced choice if any, and no webgpu for synchronous reads. */
function serves(info: BackendInfo | undefined, forced: BackendName | undefined, asyncReads: boolean): info is BackendInfo {
  return info !== undefined && (!forced || forced === info.name) && (asyncReads || info.name !== 'webgpu');
}

/**
 * Starts the first backend that works, in DESIGN.md §2 order (or the forced one, also taken from the
 * OOCR_BACKEND environment variable), and reports what it tried. WebGPU only for a caller that reads
 * asynchronously (`asyncReads`). Idempotent: a second call with the same choice returns the same info
 * (one of a thread that trains on WebGPU and then asks for synchronous work moves the thread to the next
 * backend; the job workers never mix the two).
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const forced = opts.backend ?? parseBackendName(process.env.OOCR_BACKEND);
  const asyncReads = opts.asyncReads === true;
  if (serves(current, forced, asyncReads)) return current;
  // Two overlapping starts would race tf.setBackend (one could leave the other on cpu): the second
  // waits for the first, then starts its own choice only if that differs.
  while (starting) await starting.catch(() => undefined);
  if (serves(current, forced, asyncReads)) return current;
  starting = start(forced, asyncReads);
  try {
    return await starting;
  } finally {
    starting = null;
  }
}

let starting: Promise<BackendInfo> | null = null;

async function start(forced: BackendName | undefined, asyncReads: boolean): Promise<BackendInfo> {
  registerExactGradients();
  const order = forced ? [forced] : BACKEND_ORDER;
  const tried: BackendInfo['tried'] = [];
  for (const name of order) {
    try {
      const extra = await tryStart(name, forced === name, asyncReads);
      current = { name, tried, tfjsVersion: tf.version.tfjs, threads: os.cpus().length, ...(name === 'wasm' ? wasmMatmul() : {}), ...extra };
      return current;
    } catch (err) {
      tried.push({ name, error: firstLine(err) });
    }
  }
  throw new Error(`no compute backend could start: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`);
}

/** Threads of the wasm backend's big matrix products (gemm/gemmPool.ts); the rest of wasm runs on one. */
function wasmMatmul(): Pick<BackendInfo, 'threads' | 'matmul'> {
  const mod = gemmModule();
  if ('error' in mod) return { threads: 1, matmul: `stock, one thread (${mod.error})` };
  try {
    const n = gemmThreads();
    return { threads: n, matmul: `${n === 1 ? 'one thread' : `${n} threads`}${mod.fma ? ', fused multiply-add' : ''}` };
  } catch (err) {
    return { threads: 1, matmul: `stock, one thread (${firstLine(err)})` };
  }
}

export function currentBackend(): BackendInfo | undefined {
  return current;
}

export function parseBackendName(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((BACKEND_ORDER as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`unknown backend '${value}': expected one of ${BACKEND_ORDER.join(', ')}`);
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 300);
}
