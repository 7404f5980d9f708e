// GPU check: `node scripts/run-ts.mjs scripts/gpu-check.ts [--out FILE] [--backends webgpu,tensorflow-gpu,...] [--quick]`.
//
// Prepared for a lent GPU machine (and runnable anywhere): for each compute backend, in a fresh child
// process (tfjs-node and tfjs-node-gpu cannot share one), it records whether the backend starts and why
// not, the adapter (WebGPU: vendor, architecture, description, software or not), matmul GFLOP/s at 1024²,
// 2048² and 4096², the ocr-factorized training step (batch 252) and a GPT-2-small-shaped (124M, random
// weights) forward of 1 × 128 and 8 × 128 tokens (on webgpu, whose reads must be asynchronous: matmul
// and the training step as the engine's training loop runs it); then prints a table and writes everything
// as JSON. A software WebGPU adapter is used here only because this script forces each backend; the app
// skips one.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm'];

interface ChildReport {
  backend: string;
  started: boolean;
  error?: string;
  adapter?: unknown;
  info?: unknown;
  matmulGflops?: Record<string, number>;
  presetStepMs?: number;
  gpt2ForwardMs?: Record<string, number>;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const quick = process.argv.includes('--quick');

async function child(backend: string): Promise<ChildReport> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../src/core/backend/initBackend');
  const { presetConfig } = await import('../src/core/presets');
  const { readHfModelConfig } = await import('../src/core/hf/loadHfModel');
  const { initParams } = await import('../src/core/model/params');
  const { toLiveModel } = await import('../src/core/model/liveModel');
  const { forward } = await import('../src/core/model/forward');
  const { makeTrainer, matmulGflops, timeLoop } = await import('../bench/measure');
  const report: ChildReport = { backend, started: false };
  try {
    // WebGPU serves work that reads asynchronously only (training, and this script's webgpu timings).
    report.info = await initBackend({ backend: backend as never, asyncReads: backend === 'webgpu' });
    if (backend === 'webgpu') report.adapter = (report.info as { adapter?: unknown }).adapter;
    report.started = true;
  } catch (err) {
    report.error = (err as Error).message;
    return report;
  }
  if (backend === 'webgpu') return { ...report, ...(await asyncMeasures(tf, quick)), presetStepMs: await enginePresetStepMs(report.info as never, quick) };
  const opts = { warmup: 2, minSeconds: quick ? 0.3 : 1.5, maxIters: 50 };
  report.matmulGflops = {};
  for (const n of quick ? [1024] : [1024, 2048, 4096]) report.matmulGflops[`${n}`] = matmulGflops(n, n, n, opts).gflops;
  const trainer = makeTrainer(presetConfig('ocr-factorized'));
  report.presetStepMs = timeLoop(() => void trainer.step(), { ...opts, warmup: 5 }).meanMs;
  trainer.dispose();
  // A GPT-2-small-shaped model from its config alone (random weights): no download needed.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-gpt2-'));
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: 768, n_head: 12, n_layer: quick ? 2 : 12, n_positions: 1024, vocab_size: 50257, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new', tie_word_embeddings: true }),
  );
  const cfg = readHfModelConfig(dir).config;
  fs.rmSync(dir, { recursive: true, force: true });
  const live = toLiveModel(cfg, initParams(cfg, 0));
  report.gpt2ForwardMs = {};
  for (const [b, t] of [
    [1, 128],
    [8, 128],
  ]) {
    const ids = tf.tensor2d(Array.from({ length: b * t }, (_, i) => (i * 7919) % 50257), [b, t], 'int32');
    report.gpt2ForwardMs[`${b}x${t}`] = timeLoop(() => tf.tidy(() => void forward(cfg, live.params, ids).logits.dataSync()), { warmup: 1, minSeconds: quick ? 0.2 : 2, maxIters: 20 }).meanMs;
    ids.dispose();
  }
  live.dispose();
  return report;
}

/**
 * The ocr-factorized step as a training job runs it on this backend (src/core/train: variableGrads +
 * AdamW, the loss read back each step), from the times metrics.jsonl logs at step 1 and the last
 * (which includes one small evaluation).
 */
async function enginePresetStepMs(info: import('../src/shared/backend').BackendInfo, q: boolean): Promise<number> {
  const { presetConfig } = await import('../src/core/presets');
  const { trainRun } = await import('../src/core/train/trainRun');
  const { readMetrics } = await import('../src/core/io/runStore');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-train-'));
  try {
    const steps = q ? 12 : 60;
    const config = { ...presetConfig('ocr-factorized'), steps, logEvery: steps, checkpointEvery: 0, evalSamples: 50 };
    await trainRun({ config, preset: 'ocr-factorized', outDir: path.join(dir, 'run'), backend: info, fused: false, finalEvalSamples: 50 });
    const m = readMetrics(path.join(dir, 'run'));
    return ((m[m.length - 1].time - m[0].time) / (steps - 1)) * 1000;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Timings that read results back asynchronously (all the webgpu backend can do in Node). */
async function asyncMeasures(tf: typeof import('@tensorflow/tfjs'), q: boolean): Promise<Partial<ChildReport>> {
  const matmulGflops: Record<string, number> = {};
  for (const n of q ? [512, 1024] : [1024, 2048, 4096]) {
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    await tf.matMul(a, b).data(); // compiles the shader
    const reps = q ? 2 : 10;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    }
    matmulGflops[`${n}`] = (2 * n * n * n * reps) / ((performance.now() - t0) * 1e6);
    a.dispose();
    b.dispose();
  }
  return { matmulGflops };
}

async function main(): Promise<void> {
  const only = arg('--child');
  if (only) {
    const r = await child(only);
    process.stdout.write(`\n${JSON.stringify(r)}\n`);
    return;
  }
  const backends = (arg('--backends') ?? ALL.join(',')).split(',');
  const reports: ChildReport[] = [];
  for (const b of backends) {
    const res = spawnSync(process.execPath, [path.join(ROOT, 'scripts/run-ts.mjs'), path.join(ROOT, 'scripts/gpu-check.ts'), '--child', b, ...(quick ? ['--quick'] : [])], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: 15 * 60_000 });
    const last = (res.stdout ?? '').trim().split('\n').pop() ?? '';
    try {
      reports.push(JSON.parse(last) as ChildReport);
    } catch {
      reports.push({ backend: b, started: false, error: `child exited ${res.status}: ${(res.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` });
    }
  }
  const machine = { host: os.hostname(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}`, date: new Date().toISOString() };
  console.log(`gpu check on ${machine.host}: ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, node ${machine.node}`);
  for (const r of reports) {
    if (!r.started) {
      console.log(`${r.backend.padEnd(15)} did not start: ${r.error}`);
      continue;
    }
    const mm = Object.entries(r.matmulGflops ?? {}).map(([n, g]) => `${n}²: ${g.toPrecision(3)}`).join(', ');
    const fw = Object.entries(r.gpt2ForwardMs ?? {}).map(([s, ms]) => `${s}: ${ms.toFixed(0)} ms`).join(', ');
    const parts = [`matmul GFLOP/s ${mm}`];
    if (r.presetStepMs !== undefined) parts.push(`ocr-factorized step ${r.presetStepMs.toFixed(2)} ms`);
    if (fw) parts.push(`GPT-2 124M forward ${fw}`);
    console.log(`${r.backend.padEnd(15)} ${parts.join('; ')}`);
    if (r.adapter ?? (r.info as { adapter?: unknown })?.adapter) console.log(`${''.padEnd(15)} adapter ${JSON.stringify(r.adapter ?? (r.info as { adapter?: unknown }).adapter)}`);
  }
  const out = arg('--out');
  if (out) fs.writeFileSync(out, `${JSON.stringify({ machine, reports }, null, 2)}\n`);
}

await main();
