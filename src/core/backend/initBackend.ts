import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { BACKEND_ORDER, type BackendInfo, type BackendName } from '../../shared/backend';
import { registerWasmKernels } from './kernels/registerWasmKernels';
import { installWebGpu, startWebGpuBackend, webGpuSyncReadBlocker } from './webgpu';

export interface InitBackendOptions {
  /** Force one backend (fails if it cannot start) instead of the preference order. */
  backend?: BackendName;
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

async function tryStart(name: BackendName, forced: boolean): Promise<Partial<BackendInfo>> {
  switch (name) {
    case 'webgpu': {
      // The adapter is found (a software one only when forced) and named, then skipped while the
      // engine's synchronous reads cannot run on it (webgpu.ts).
      const adapter = await installWebGpu(forced);
      const blocker = webGpuSyncReadBlocker();
      if (blocker) throw new Error(`adapter ${adapter.description || adapter.architecture || adapter.vendor}${adapter.software ? ' (software)' : ''} found, but ${blocker}`);
      return { adapter: await startWebGpuBackend(forced) };
    }
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

/**
 * Starts the first backend that works, in DESIGN.md §2 order (or the forced one, also taken from the
 * OOCR_BACKEND environment variable), and reports what it tried. Idempotent: a second call with the
 * same choice returns the same info.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const forced = opts.backend ?? parseBackendName(process.env.OOCR_BACKEND);
  if (current && (!forced || forced === current.name)) return current;
  // Two overlapping starts would race tf.setBackend (one could leave the other on cpu): the second
  // waits for the first, then starts its own choice only if that differs.
  while (starting) await starting.catch(() => undefined);
  if (current && (!forced || forced === current.name)) return current;
  starting = start(forced);
  try {
    return await starting;
  } finally {
    starting = null;
  }
}

let starting: Promise<BackendInfo> | null = null;

async function start(forced: BackendName | undefined): Promise<BackendInfo> {
  const order = forced ? [forced] : BACKEND_ORDER;
  const tried: BackendInfo['tried'] = [];
  for (const name of order) {
    try {
      const extra = await tryStart(name, forced === name);
      current = { name, tried, tfjsVersion: tf.version.tfjs, threads: name === 'wasm' ? 1 : os.cpus().length, ...extra };
      return current;
    } catch (err) {
      tried.push({ name, error: firstLine(err) });
    }
  }
  throw new Error(`no compute backend could start: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`);
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
