// Real-model benchmark: `npm run bench:models` [-- --profile] [-- --only gpt2|pythia] [-- --keep DIR]
// [-- --no-finetune | --finetune-only] [-- --ft-shape BxT] [-- --ft-micro M].
//
// A GPT-2-small-shaped (124M) and a Pythia-160M-shaped model with random weights, written in Hugging
// Face layout by bench/models_numpy.py (GPT-2 as F32, Pythia as F16, as on the Hub). For each: load
// time, peak RSS against the weights' float32 size, and forward latency for 16/64/256 tokens with its
// GFLOP/s, beside the same forward in numpy (float32) on the same machine, in the same run. Each model
// loads in a fresh child process, so its peak RSS is its own. Not a unit test: timings depend on the
// machine and its load.
//
// For GPT-2 only (to keep the bench short), also a fine-tuning step through the app's own code path
// (bench/models-finetune.ts): a rank-8 LoRA on c_attn of every layer and a steering vector, in a child
// process of their own, beside an analytic FLOP count at the backend's and numpy's matmul rates and the
// same LoRA step in numpy, then a projection of the locations study. `--no-finetune` skips that part,
// `--finetune-only` runs only it; `--ft-shape BxT` (default 4x32) and `--ft-micro M` set its batch.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend/initBackend';
import { loadHfLiveModel, readHfModelConfig } from '../src/core/hf/loadHfModel';
import { estimateTrainFlops } from '../src/core/model/flops';
import { forward } from '../src/core/model/forward';
import { paramSpecs } from '../src/core/model/params';
import { matmulGflops } from './measure';
import { finetuneChild, FT_DEFAULT, reportFinetune, type FtShape } from './models-finetune';
import { tidyHost } from '../src/core/util/tidyHost';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LENGTHS = [16, 64, 256];
const REPEATS = 3;
const MB = 2 ** 20;

interface ChildResult {
  backend: string;
  params: number;
  float32Bytes: number;
  baselineRss: number;
  loadMs: number;
  peakRssAfterLoad: number;
  peakRss: number;
  forwardMs: Record<string, number>;
  gflop: Record<string, number>;
  profile?: { kernel: string; ms: number; calls: number }[];
  /** The backend's plain matmul on the MLP's shape ([256, d_model]·[d_model, d_mlp], weights packed once), this run. */
  matmulGflops: number;
  /** tf.memory() after load and after all forwards: must not grow. */
  tensors: { afterLoad: [number, number]; afterForwards: [number, number] };
}

const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

async function child(dir: string, profile: boolean): Promise<void> {
  const backend = await initBackend();
  const baselineRss = maxRss();
  const t0 = performance.now();
  const { model, live } = loadHfLiveModel(dir);
  const loadMs = performance.now() - t0;
  const peakRssAfterLoad = maxRss();
  const c = model.config;
  const memAfterLoad: [number, number] = [tf.memory().numTensors, tf.memory().numBytes];
  const float32Bytes = paramSpecs(c).reduce((s, p) => s + 4 * p.shape.reduce((a, b) => a * b, 1), 0);
  const forwardMs: Record<string, number> = {};
  const gflop: Record<string, number> = {};
  for (const T of LENGTHS) {
    const ids = tf.tensor2d(Int32Array.from({ length: T }, (_, i) => (i * 7919) % c.dVocab), [1, T], 'int32');
    // tidyHost, not tf.tidy: tf.tidy would scan the returned logits array key by key (seconds per call).
    const run = (): void => void tidyHost(() => forward(c, live.params, ids).logits.dataSync());
    run();
    const times: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const s = performance.now();
      run();
      times.push(performance.now() - s);
    }
    ids.dispose();
    forwardMs[T] = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
    gflop[T] = estimateTrainFlops(c, 1, T, 'all').forward / 1e9;
  }
  // Before profiling: tf.profile keeps its own records and would inflate the peak.
  const peakRss = maxRss();
  const memAfterForwards: [number, number] = [tf.memory().numTensors, tf.memory().numBytes];
  const peak = matmulGflops(256, c.dModel, c.dMlp, { warmup: 2, minSeconds: 1, maxIters: 20 }).gflops;
  let kernels: ChildResult['profile'];
  if (profile) {
    const ids = tf.tensor2d(Int32Array.from({ length: 64 }, (_, i) => i), [1, 64], 'int32');
    const info = await tf.profile(() => tidyHost(() => forward(c, live.params, ids).logits.dataSync()));
    ids.dispose();
    const by = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = by.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      e.calls++;
      by.set(k.name, e);
    }
    kernels = [...by.entries()].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms).slice(0, 12);
  }
  live.dispose();
  const out: ChildResult = { backend: backend.name, params: paramSpecs(c).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0), float32Bytes, baselineRss, loadMs, peakRssAfterLoad, peakRss, forwardMs, gflop, profile: kernels, matmulGflops: peak, tensors: { afterLoad: memAfterLoad, afterForwards: memAfterForwards } };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function python(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync('python3', [path.join(ROOT, 'bench/models_numpy.py'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 16 * MB });
  if (r.status !== 0) throw new Error(`models_numpy.py ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').pop() ?? '';
}

function runChild(dir: string, profile: boolean): ChildResult {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/run-ts.mjs'), path.join(ROOT, 'bench/models-bench.ts'), '--child', dir, ...(profile ? ['--profile'] : [])], {
    encoding: 'utf8',
    maxBuffer: 16 * MB,
  });
  if (r.status !== 0) throw new Error(`bench child for ${dir} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
}

/** Load, memory and forward latency of one model beside numpy (the table of docs/performance.md). */
function reportForward(name: string, label: string, dir: string, profile: boolean): void {
  const ts = runChild(dir, profile);
  const np = JSON.parse(python(['time', dir, ...LENGTHS.map(String)])) as { ms: Record<string, number> };
  const np1 = JSON.parse(python(['time', dir, ...LENGTHS.map(String)], { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' })) as { ms: Record<string, number> };
  const f32 = ts.float32Bytes / MB;
  process.stdout.write(`\n${name}: ${label}; ${(ts.params / 1e6).toFixed(1)}M parameters, float32 ${f32.toFixed(0)} MB, backend ${ts.backend}\n`);
  process.stdout.write(`  load ${(ts.loadMs / 1000).toFixed(2)} s; peak RSS after load ${(ts.peakRssAfterLoad / MB).toFixed(0)} MB = ${(ts.peakRssAfterLoad / ts.float32Bytes).toFixed(2)}× float32 (process baseline before load ${(ts.baselineRss / MB).toFixed(0)} MB; above it ${((ts.peakRssAfterLoad - ts.baselineRss) / ts.float32Bytes).toFixed(2)}×); peak with forwards ${(ts.peakRss / MB).toFixed(0)} MB = ${(ts.peakRss / ts.float32Bytes).toFixed(2)}× (above baseline ${((ts.peakRss - ts.baselineRss) / ts.float32Bytes).toFixed(2)}×)\n`);
  const [t0, b0] = ts.tensors.afterLoad;
  const [t1, b1] = ts.tensors.afterForwards;
  process.stdout.write(`  tf.memory after load ${t0} tensors / ${(b0 / MB).toFixed(0)} MB, after all forwards ${t1} / ${(b1 / MB).toFixed(0)} MB${t1 - t0 > 1 || b1 > b0 + 1e6 ? ' (GROWS: a leak)' : ' (flat)'}\n`);
  process.stdout.write(`  wasm/backend matmul peak in this run: ${ts.matmulGflops.toFixed(1)} GFLOP/s ([256, d_model]·[d_model, d_mlp], weights packed once); "of peak" = forward GFLOP/s ÷ that\n`);
  process.stdout.write(`  ${'tokens'.padStart(8)} ${'GFLOP'.padStart(7)} ${'tfjs ms'.padStart(9)} ${'GFLOP/s'.padStart(8)} ${'of peak'.padStart(8)} ${'numpy ms'.padStart(9)} ${'tfjs/numpy'.padStart(11)} ${'numpy 1-thread ms'.padStart(18)} ${'tfjs/numpy1'.padStart(12)}\n`);
  for (const T of LENGTHS) {
    const t = ts.forwardMs[T];
    const n = np.ms[T];
    const n1 = np1.ms[T];
    process.stdout.write(
      `  ${String(T).padStart(8)} ${ts.gflop[T].toFixed(1).padStart(7)} ${t.toFixed(0).padStart(9)} ${(ts.gflop[T] / (t / 1000)).toFixed(1).padStart(8)} ${`${((100 * ts.gflop[T]) / (t / 1000) / ts.matmulGflops).toFixed(0)}%`.padStart(8)} ${n.toFixed(0).padStart(9)} ${(t / n).toFixed(2).padStart(11)} ${n1.toFixed(0).padStart(18)} ${(t / n1).toFixed(2).padStart(12)}\n`,
    );
  }
  const Tmax = LENGTHS[LENGTHS.length - 1];
  const npRate = ts.gflop[Tmax] / (np.ms[Tmax] / 1000);
  const np1Rate = ts.gflop[Tmax] / (np1.ms[Tmax] / 1000);
  process.stdout.write(
    `  ceiling at ${Tmax} tokens: numpy runs ${npRate.toFixed(0)} GFLOP/s (1 thread ${np1Rate.toFixed(0)}); even at the backend's matmul peak the forward would be ${(npRate / ts.matmulGflops).toFixed(1)}× numpy (${(np1Rate / ts.matmulGflops).toFixed(1)}× 1-thread)\n`,
  );
  if (ts.profile) {
    process.stdout.write(`  kernels of one 64-token forward (tf.profile):\n`);
    for (const k of ts.profile) process.stdout.write(`    ${k.kernel.padEnd(22)} ${k.ms.toFixed(1).padStart(8)} ms  ${String(k.calls).padStart(4)} calls\n`);
  }
}

/** `--ft-shape BxT` (default FT_DEFAULT's) and `--ft-micro M` (default: the whole batch). */
function parseShape(bxt: string | undefined, micro: string | undefined): FtShape {
  const m = /^(\d+)x(\d+)$/.exec(bxt ?? `${FT_DEFAULT.batch}x${FT_DEFAULT.seqLen}`);
  if (!m) throw new Error(`--ft-shape wants BxT, e.g. 4x32 (got ${bxt})`);
  const [batch, seqLen] = [Number(m[1]), Number(m[2])];
  const completion = Math.min(FT_DEFAULT.completion, seqLen);
  return { batch, seqLen, completion, micro: micro ? Number(micro) : batch };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--child');
  if (at >= 0) return child(args[at + 1], args.includes('--profile'));
  const ftAt = args.indexOf('--child-finetune');
  if (ftAt >= 0) return finetuneChild(args[ftAt + 1], parseShape(args[ftAt + 2], args[ftAt + 3]));
  const profile = args.includes('--profile');
  const finetuneOnly = args.includes('--finetune-only');
  const noFinetune = args.includes('--no-finetune');
  const shape = parseShape(args.includes('--ft-shape') ? args[args.indexOf('--ft-shape') + 1] : undefined, args.includes('--ft-micro') ? args[args.indexOf('--ft-micro') + 1] : undefined);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
  const keep = args.includes('--keep') ? args[args.indexOf('--keep') + 1] : null;
  const tmp = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-models-bench-'));
  process.stdout.write(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  try {
    for (const [name, kind, label] of [
      ['gpt2-small', 'gpt2', 'GPT-2 small shape (F32 on disk, tied unembedding)'],
      ['pythia-160m', 'pythia', 'Pythia-160M shape (F16 on disk, rotary, parallel blocks)'],
    ] as const) {
      if (only && only !== kind) continue;
      const dir = path.join(tmp, name);
      if (!fs.existsSync(path.join(dir, 'model.safetensors'))) python(['write', dir, kind]);
      if (!finetuneOnly) reportForward(name, label, dir, profile);
      if (kind === 'gpt2' && !noFinetune) {
        if (finetuneOnly) process.stdout.write(`\n${name}: ${label}\n`);
        reportFinetune(dir, readHfModelConfig(dir).config, shape, python);
      }
    }
  } finally {
    if (!keep) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
