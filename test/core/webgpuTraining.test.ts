import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MetricsLine } from '../../src/shared/modelConfig';
import { listCheckpoints, readManifest, readMetrics } from '../../src/core/io/runStore';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { lastJson, oocr, ROOT } from '../cli/runCli';

/**
 * Training on the webgpu backend (tfjs-backend-webgpu on Dawn, reads asynchronous throughout
 * src/core/train): a preset trained there logs the losses and metrics of the same run on wasm's tfjs
 * path (OOCR_FUSED=0) to float tolerance, and the checkpoints it saves load. Work that reads
 * synchronously is refused on webgpu, or fails saying why when it reads there anyway.
 *
 * Runs wherever Dawn finds an adapter, a software one included (forced with --backend webgpu): the
 * system's Vulkan driver (a GPU, or Mesa's lavapipe; Debian 12's lavapipe 22.3 lacks a feature Dawn
 * requires), else the SwiftShader Vulkan driver Debian's chromium ships, which CI has.
 */

const SWIFTSHADER = { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json', LD_LIBRARY_PATH: '/usr/lib/chromium' };

/** The environment (the system's, else SwiftShader's) in which Dawn offers an adapter, and its name; or why none. */
function findAdapter(): { env: NodeJS.ProcessEnv; adapter: string } | { reason: string } {
  const probe = `import { create } from 'webgpu';
const a = await create([]).requestAdapter();
console.log(JSON.stringify(a ? (a.info.description || a.info.vendor || 'unnamed') : null));
process.exit(0);`;
  const tries: [string, NodeJS.ProcessEnv | null][] = [
    ['the system Vulkan driver', process.env],
    ['chromium’s SwiftShader', fs.existsSync(SWIFTSHADER.VK_ICD_FILENAMES) ? { ...process.env, ...SWIFTSHADER } : null],
  ];
  const why: string[] = [];
  for (const [label, env] of tries) {
    if (!env) {
      why.push(`${label}: not installed`);
      continue;
    }
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    const last = r.stdout.trim().split('\n').pop() ?? '';
    let adapter: string | null = null;
    try {
      adapter = JSON.parse(last) as string | null;
    } catch {
      // no JSON: the package is missing or Dawn failed; said below
    }
    if (adapter) return { env, adapter };
    why.push(`${label}: ${r.status === 0 ? 'no adapter' : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { reason: `no WebGPU adapter (${why.join('; ')})` };
}

const found = findAdapter();
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-webgpu-train-'));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** ocr-factorized, short: 30 steps of 64 sequences, the curve every 5, checkpoints every 10, small eval samples. */
const TRAIN = ['train', '--preset', 'ocr-factorized', '--seed', '3', '--steps', '30', '--batch-size', '64', '--log-every', '5', '--checkpoint-every', '10', '--eval-samples', '100', '--json'];

describe('training on WebGPU', () => {
  it('logs the losses and metrics of the same run on wasm, and saves checkpoints that load', async (ctx) => {
    if ('reason' in found) ctx.skip(found.reason);
    const { env } = found as { env: NodeJS.ProcessEnv };
    const gpuDir = path.join(tmp, 'webgpu');
    const wasmDir = path.join(tmp, 'wasm');
    const [gpu, wasm] = await Promise.all([
      oocr([...TRAIN, '--out', gpuDir, '--backend', 'webgpu'], { env, timeoutMs: 600_000 }),
      oocr([...TRAIN, '--out', wasmDir, '--backend', 'wasm'], { env: { ...process.env, OOCR_FUSED: '0' }, timeoutMs: 600_000 }),
    ]);
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(wasm.code, wasm.stderr).toBe(0);
    expect(lastJson(gpu.stdout)).toMatchObject({ status: 'completed', steps: 30, backend: 'webgpu' });
    expect(lastJson(wasm.stdout)).toMatchObject({ status: 'completed', steps: 30, backend: 'wasm' });
    expect(readManifest(gpuDir).backend).toBe('webgpu');

    const a = readMetrics(gpuDir);
    const b = readMetrics(wasmDir);
    expect(a.map((m) => m.step)).toEqual([1, 5, 10, 15, 20, 25, 30]);
    expect(a.map((m) => m.step)).toEqual(b.map((m) => m.step));
    const worst = (pick: (m: MetricsLine) => number[]): number => Math.max(...a.map((m, i) => Math.max(...pick(m).map((x, j) => Math.abs(x - pick(b[i])[j])))));
    const losses = (m: MetricsLine): number[] => [m.loss, ...Object.keys(m.metrics ?? {}).filter((k) => k.endsWith('_loss')).sort().map((k) => (m.metrics ?? {})[k])];
    const accs = (m: MetricsLine): number[] => Object.keys(m.metrics ?? {}).filter((k) => k.endsWith('_acc')).sort().map((k) => (m.metrics ?? {})[k]);
    // float32 sums in another order: equal to 4 decimals and better (measured: up to 4e-6 on SwiftShader and lavapipe, weights to 1.2e-7).
    expect(worst(losses)).toBeLessThan(1e-4);
    // An argmax may flip on a near tie; 100 sequences per split, so 0.02 is two of them.
    expect(worst(accs)).toBeLessThanOrEqual(0.02);
    const finalA = readManifest(gpuDir).finalMetrics ?? {};
    const finalB = readManifest(wasmDir).finalMetrics ?? {};
    for (const k of Object.keys(finalB)) expect(Math.abs(finalA[k] - finalB[k]), k).toBeLessThan(k.endsWith('_loss') ? 1e-4 : 0.02);

    // Checkpoints at 10, 20 and 30 (the optimizer state beside the first two was written, then removed
    // once the run completed); each loads against run.json's config and holds wasm's weights to float tolerance.
    const config = readManifest(gpuDir).config.model;
    const gpuCkpts = listCheckpoints(gpuDir);
    expect(gpuCkpts.map((c) => c.step)).toEqual([10, 20, 30]);
    const wasmCkpts = listCheckpoints(wasmDir);
    for (const [i, c] of gpuCkpts.entries()) {
      const g = loadCheckpoint(c.file, config, { configSource: 'run.json' });
      const w = loadCheckpoint(wasmCkpts[i].file, config);
      expect(g.meta.step).toBe(c.step);
      for (const [name, t] of Object.entries(w.params)) {
        const d = g.params[name].data;
        let diff = 0;
        for (let j = 0; j < d.length; j++) diff = Math.max(diff, Math.abs(d[j] - t.data[j]));
        expect(diff, `${name} at step ${c.step}`).toBeLessThan(1e-4);
      }
    }
    expect(fs.readdirSync(path.join(gpuDir, 'checkpoints')).filter((f) => f.includes('.optim.'))).toEqual([]);
  }, 600_000);

  it('refuses synchronous work on webgpu, and a stray synchronous read there says why', async (ctx) => {
    if ('reason' in found) ctx.skip(found.reason);
    const { env } = found as { env: NodeJS.ProcessEnv };
    // Plain JavaScript run from the repository root (bare imports resolve there), the sources through tsx.
    const initBackendUrl = JSON.stringify(pathToFileURL(path.join(ROOT, 'src/core/backend/initBackend.ts')).href);
    const script = `import * as tf from '@tensorflow/tfjs';
import { initBackend } from ${initBackendUrl};
const out = {};
await initBackend({ backend: 'webgpu' }).catch((e) => (out.refused = e.message));
out.started = (await initBackend({ backend: 'webgpu', asyncReads: true })).name;
const x = tf.randomNormal([64, 64]);
const y = tf.matMul(x, x);
out.async = String((await y.data()).length);
try {
  // A tensor never read before (a read caches its values on the host, which dataSync would return).
  tf.matMul(y, x).dataSync();
} catch (e) {
  out.sync = e.message;
}
out.after = String((await tf.matMul(y, x).sum().data()).length);
console.log(JSON.stringify(out));
process.exit(0);
`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = lastJson<Record<string, string>>(r.stdout);
    expect(out.refused).toMatch(/webgpu: training only: tfjs-backend-webgpu cannot read tensors synchronously .*; run it on wasm/);
    expect(out.started).toBe('webgpu');
    expect(out.async).toBe('4096');
    expect(out.sync).toMatch(/^synchronous tensor read \(dataSync\/arraySync\) on the webgpu backend: .*only training runs on WebGPU/);
    // The refused read left the backend working.
    expect(out.after).toBe('1');
  }, 120_000);
});
