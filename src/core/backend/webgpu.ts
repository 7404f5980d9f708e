import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { GpuAdapterInfo } from '../../shared/backend';

/**
 * WebGPU in Node: Dawn through the `webgpu` npm package (prebuilt dawn.node for Linux, macOS and
 * Windows inside the package: nothing is downloaded at install time), with tfjs's webgpu backend on
 * top. It is the portable GPU path — Vulkan on NVIDIA/AMD Linux, Metal on Apple Silicon, D3D12 on
 * Windows — where tfjs-node-gpu needs CUDA 11.2 + cuDNN 8.1 and has no Apple Silicon build. In the
 * Electron app's renderer Chromium's own navigator.gpu would serve, but training runs in main-process
 * worker threads, which use this.
 *
 * A software adapter (SwiftShader, llvmpipe/lavapipe, or one Dawn marks as a fallback) is slower than
 * the wasm backend, so it is skipped unless WebGPU is forced (`--backend webgpu`).
 *
 * A training backend only: tfjs-backend-webgpu 4.22 reads a tensor back synchronously (dataSync)
 * only through OffscreenCanvas, which Node (and Electron's main process) lack. Training reads
 * asynchronously (the loop's losses, the curve and final metrics, checkpoints and optimizer state:
 * src/core/train), so training jobs start backends with `initBackend({ asyncReads: true })` and may get
 * WebGPU; everything else (analyses, fine-tunes, studies, SAEs, evaluations, Hugging Face models) reads
 * synchronously, and initBackend skips WebGPU for it (to the next backend of the order: wasm here), or
 * refuses it when forced. Each job runs in its own worker thread with its own backend, so a GPU machine
 * trains on WebGPU while its analyses run on wasm. Should a synchronous read still reach the webgpu
 * backend, it fails at once with an error saying so (guardSyncReads) instead of tfjs's
 * "OffscreenCanvas is not defined".
 */

export type WebGpuAdapterInfo = GpuAdapterInfo;

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

interface WebGpuModule {
  create: (flags: string[]) => { requestAdapter: (o?: { powerPreference?: string }) => Promise<GpuAdapterLike | null> };
  globals: Record<string, unknown>;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|basic render/i;

/** The adapter's identity, and whether it is a software rasteriser. */
export function describeAdapter(a: GpuAdapterLike): WebGpuAdapterInfo {
  const i = a.info ?? {};
  const vendor = i.vendor ?? '';
  const architecture = i.architecture ?? '';
  const device = i.device ?? '';
  const description = i.description ?? '';
  const fallback = Boolean(a.isFallbackAdapter ?? i.isFallbackAdapter);
  return { vendor, architecture, device, description, software: fallback || SOFTWARE.test(`${vendor} ${architecture} ${device} ${description}`) };
}

let installed: WebGpuAdapterInfo | null = null;

/**
 * On Linux Dawn reaches GPUs through the Vulkan loader; without libvulkan.so.1 it finds nothing and
 * says so on stderr at every start, so look for the loader first (the dynamic linker's cache, then
 * LD_LIBRARY_PATH) and skip quietly when it is absent.
 */
export function vulkanLoaderMissing(): string | null {
  if (process.platform !== 'linux') return null;
  const name = 'libvulkan.so.1';
  try {
    if (fs.readFileSync('/etc/ld.so.cache').includes(name)) return null;
  } catch {
    // no cache: look in the search path below
  }
  for (const dir of [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']) {
    if (fs.existsSync(path.join(dir, name))) return null;
  }
  return `no Vulkan loader (${name}), so no GPU driver Dawn can use`;
}

/**
 * Makes navigator.gpu a Dawn instance in this thread (once) and returns the adapter it offers. Throws,
 * saying why, when the package is missing, no adapter exists (no driver Dawn can use), or the only
 * adapter is a software one and `allowSoftware` is false.
 */
export async function installWebGpu(allowSoftware: boolean): Promise<WebGpuAdapterInfo> {
  if (installed) {
    if (installed.software && !allowSoftware) throw softwareError(installed);
    return installed;
  }
  const noVulkan = vulkanLoaderMissing();
  if (noVulkan) throw new Error(noVulkan);
  // Optional dependency: a platform without a dawn.node build simply has no WebGPU backend.
  const mod = (await import('webgpu' as string)) as WebGpuModule;
  const gpu = mod.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter: Dawn found no GPU driver it can use (Vulkan, Metal or D3D12)');
  const info = describeAdapter(adapter);
  if (info.software && !allowSoftware) throw softwareError(info);
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as object;
  Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  installed = info;
  return info;
}

function softwareError(info: WebGpuAdapterInfo): Error {
  return new Error(`only a software WebGPU adapter (${info.description || info.architecture || info.vendor}), slower than wasm; skipped (force it with --backend webgpu)`);
}

/** Why only work that reads tensors asynchronously runs on WebGPU here (initBackend's reason for skipping it). */
export const WEBGPU_SYNC_READS = 'tfjs-backend-webgpu cannot read tensors synchronously (dataSync) in Node, where it would need OffscreenCanvas';

/** Whether this process can read webgpu tensors synchronously (a browser's OffscreenCanvas). */
function syncReadsPossible(): boolean {
  return typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined';
}

interface ReadSyncBackend {
  readSync(dataId: object): unknown;
}

const GUARDED = Symbol('oocr.syncReadsGuarded');

/**
 * Makes a synchronous read of a tensor that lives on the GPU fail with an error that names the cause,
 * where tfjs-backend-webgpu would throw "OffscreenCanvas is not defined" (it does so before touching
 * any state, so the backend stays usable). Reads of values still on the host succeed as before.
 */
function guardSyncReads(backend: ReadSyncBackend): void {
  const b = backend as ReadSyncBackend & { [GUARDED]?: true };
  if (syncReadsPossible() || b[GUARDED]) return;
  const readSync = b.readSync.bind(b);
  b.readSync = (dataId) => {
    try {
      return readSync(dataId);
    } catch (err) {
      if (err instanceof ReferenceError && /OffscreenCanvas/.test(err.message)) {
        throw new Error(`synchronous tensor read (dataSync/arraySync) on the webgpu backend: ${WEBGPU_SYNC_READS}; only training runs on WebGPU (read with await tensor.data()), other work on wasm`);
      }
      throw err;
    }
  };
  b[GUARDED] = true;
}

/** Starts tfjs's webgpu backend on the installed adapter (reads must then be asynchronous: see above). */
export async function startWebGpuBackend(allowSoftware: boolean): Promise<WebGpuAdapterInfo> {
  const info = await installWebGpu(allowSoftware);
  await import('@tensorflow/tfjs-backend-webgpu');
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error("tf.setBackend('webgpu') returned false");
  await tf.ready();
  guardSyncReads(tf.backend() as unknown as ReadSyncBackend);
  return info;
}
