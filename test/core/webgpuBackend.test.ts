import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describeAdapter } from '../../src/core/backend/webgpu';
import { lastJson, oocr } from '../cli/runCli';

/**
 * WebGPU through Dawn (the `webgpu` package): adapters are found and named, software ones skipped
 * unless forced, and the backend serves training only (tfjs-backend-webgpu reads back synchronously
 * only through OffscreenCanvas, so other work, which reads that way, skips it, and refuses it when
 * forced). On a machine without a GPU the adapter is Chromium's SwiftShader Vulkan driver (Debian's
 * chromium ships it), which Dawn marks as a fallback. Training on it: ./webgpuTraining.test.ts.
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const hasDawn = (() => {
  try {
    createRequire(import.meta.url).resolve('webgpu');
    return true;
  } catch {
    return false;
  }
})();
const env = { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD, LD_LIBRARY_PATH: '/usr/lib/chromium' };

describe('WebGPU adapters', () => {
  it('tells software adapters from GPUs by Dawn’s fallback flag or the rasteriser’s name', () => {
    expect(describeAdapter({ info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' } }).software).toBe(true);
    expect(describeAdapter({ info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }).software).toBe(true);
    expect(describeAdapter({ isFallbackAdapter: true, info: { vendor: 'x' } }).software).toBe(true);
    expect(describeAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' } })).toEqual({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', software: false });
  });

  it.skipIf(!hasDawn || !fs.existsSync(SWIFTSHADER_ICD))('keeps WebGPU to training, skips a software adapter unless forced, and refuses it for other work', async () => {
    // --version starts a backend as synchronous work does: WebGPU skipped with its reason, Dawn not even loaded.
    const version = await oocr(['--version'], { env });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stderr).toBe('');
    expect(version.stdout).toMatch(/webgpu unavailable \(training only: tfjs-backend-webgpu cannot read tensors synchronously \(dataSync\) in Node/);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-webgpu-'));
    try {
      // A training job would take WebGPU, but not a software adapter it was not forced onto.
      const train = await oocr(['train', '--preset', 'ocr-factorized', '--steps', '2', '--out', path.join(out, 'run'), '--json'], { env });
      expect(train.code, train.stderr).toBe(0);
      expect(lastJson<{ backend: string }>(train.stdout).backend).toMatch(/^wasm(-fused)?$/);
      const forced = await oocr(['eval', '--run', path.join(out, 'run'), '--backend', 'webgpu'], { env });
      expect(forced.code).toBe(1);
      expect(forced.stderr).toMatch(/webgpu: training only: tfjs-backend-webgpu cannot read tensors synchronously .*; run it on wasm \(--backend wasm, or no --backend\)/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
