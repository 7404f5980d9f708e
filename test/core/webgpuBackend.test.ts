import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describeAdapter } from '../../src/core/backend/webgpu';
import { oocr } from '../cli/runCli';

/**
 * WebGPU through Dawn (the `webgpu` package): adapters are found and named, software ones skipped
 * unless forced, and the backend is skipped for the engine with its reason (tfjs-backend-webgpu reads
 * back synchronously only through OffscreenCanvas). On a machine without a GPU the adapter is
 * Chromium's SwiftShader Vulkan driver (Debian's chromium ships it), which Dawn marks as a fallback.
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

  it.skipIf(!hasDawn || !fs.existsSync(SWIFTSHADER_ICD))('skips a software adapter by default and says why WebGPU cannot serve the engine when forced', async () => {
    const version = await oocr(['--version'], { env });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/webgpu unavailable \(only a software WebGPU adapter \(SwiftShader[^)]*\), slower than wasm; skipped/);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-webgpu-'));
    const forced = await oocr(['train', '--preset', 'ocr-factorized', '--steps', '2', '--out', path.join(out, 'run'), '--backend', 'webgpu'], { env });
    fs.rmSync(out, { recursive: true, force: true });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/adapter SwiftShader[^)]*\(software\) found, but tfjs-backend-webgpu reads tensors back synchronously only through OffscreenCanvas/);
  }, 60_000);
});
