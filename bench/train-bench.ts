// Training-speed benchmark: `npm run bench [-- --out FILE] [-- --backends wasm,cpu]`.
//
// In one process, for each backend that loads among tensorflow (tfjs-node), wasm and cpu, measures a
// plain-matmul reference, the ocr-factorized and ocr-combined preset training steps, a bigger
// 2-layer model, and where a preset step's time goes (tf.profile). Then times the kernels our wasm
// fixes replace against the stock tfjs-backend-wasm ones, which need a fresh process
// (bench/stock-wasm-step.ts). Ratios are against measurements of the same run. Nothing is written
// unless `--out FILE` is given (e.g. `--out bench/results/latest.json`). Not a unit test: timings
// depend on the machine and its load.
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../src/shared/backend';
import type { ModelConfig, TrainConfig } from '../src/shared/modelConfig';
import { initBackend } from '../src/core/backend/initBackend';
import { estimateTrainFlops } from '../src/core/model/flops';
import { resolveConfig } from '../src/core/model/resolveConfig';
import { presetConfig } from '../src/core/presets';
import { makeTrainer, matmulGflops, measureKernelFixes, timeLoop, withKernelClock, type KernelFixTimings, type TimeLoopOptions, type Trainer } from './measure';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALL_BACKENDS: BackendName[] = ['tensorflow', 'wasm', 'cpu'];
const REFERENCE: BackendName = 'wasm';
const MATMUL = { m: 4032, k: 128, n: 128 };
const PROJECT_STEPS = 2000;
const TOP_KERNELS = 8;

// ---------------------------------------------------------------------------------------------- args

function parseArgs(argv: string[]): { out: string | null; backends: BackendName[] } {
  let out: string | null = null;
  let backends = ALL_BACKENDS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--out') out = value();
    else if (a.startsWith('--out=')) out = a.slice('--out='.length);
    else if (a === '--backends') backends = parseBackends(value());
    else if (a.startsWith('--backends=')) backends = parseBackends(a.slice('--backends='.length));
    else throw new Error(`unknown argument '${a}' (expected --out FILE, --backends a,b)`);
  }
  return { out, backends };
}

function parseBackends(list: string): BackendName[] {
  const names = list.split(',').filter(Boolean);
  for (const n of names) if (!(ALL_BACKENDS as string[]).includes(n)) throw new Error(`unknown backend '${n}': expected ${ALL_BACKENDS.join(', ')}`);
  return names as BackendName[];
}

// ----------------------------------------------------------------------------------------- workloads

interface Workload {
  name: string;
  config: Pick<TrainConfig, 'model' | 'task' | 'taskOptions' | 'optimizer' | 'batchSize' | 'seed'>;
  /** Timing budget per backend (the cpu backend is slow on the big model). */
  timing: (backend: BackendName) => TimeLoopOptions;
  /** Report the projected time of a full preset run. */
  project: boolean;
  profile: boolean;
}

// The pure-JS cpu backend takes ~1 s per preset step (its UnsortedSegmentSum, the gradient of every
// gather, dominates), so it gets fewer warm-up steps.
const PRESET_TIMING = (b: BackendName): TimeLoopOptions => (b === 'cpu' ? { warmup: 1, minSeconds: 1.5 } : { warmup: 20, minSeconds: 1.5 });

/** 2 layers, d_model 256, 4 heads × 64, softmax, MLP 1024, LayerNorm, learned embeddings and unembedding. */
const BIG_MODEL: ModelConfig = resolveConfig({
  nLayers: 2,
  dModel: 256,
  nHeads: 4,
  dHead: 64,
  dVocab: 128,
  nCtx: 16,
  attention: 'softmax',
  ov: 'factorized',
  ovRank: 64,
  mlp: true,
  dMlp: 1024,
  layerNorm: true,
  residual: true,
  posEmbed: true,
  embed: 'learned',
  unembed: 'learned',
  wK: 'learned',
});

function workloads(): Workload[] {
  const factorized = presetConfig('ocr-factorized');
  const combined = presetConfig('ocr-combined');
  return [
    { name: 'ocr-factorized', config: factorized, timing: PRESET_TIMING, project: true, profile: true },
    { name: 'ocr-combined', config: combined, timing: PRESET_TIMING, project: true, profile: true },
    {
      name: 'big-2L-d256',
      config: { ...factorized, model: BIG_MODEL, batchSize: 128 },
      // A step is ~12 GFLOP: under a second on wasm, most of a minute on the pure-JS cpu backend,
      // which therefore gets one step, not warmed up.
      timing: (b) => (b === 'cpu' ? { warmup: 0, minSeconds: 0, maxIters: 1 } : { warmup: 3, minSeconds: 1.5 }),
      project: false,
      profile: false,
    },
  ];
}

// ----------------------------------------------------------------------------------------- results

interface ConfigResult {
  name: string;
  batch: number;
  seqLen: number;
  steps: number;
  msPerStep: number;
  stepsPerSec: number;
  /** estimateTrainFlops(...).total, readout 'last'. */
  flopsPerStep: number;
  gflops: number;
  /** Achieved GFLOP/s ÷ this backend's plain-matmul GFLOP/s. */
  fractionOfMatmul: number | null;
  /** steps/s ÷ the reference backend's steps/s for the same config. */
  vsReference: number | null;
  projectedSeconds: number | null;
  finalLoss: number;
}

interface ProfileResult {
  name: string;
  /** Steps in each of the two passes. */
  steps: number;
  /** Unprofiled wall time per step (pass 1). */
  msPerStep: number;
  /** Wall time per step under tf.profile (pass 2; profiling adds bookkeeping). */
  profiledMsPerStep: number;
  /** Time inside backend kernel functions per step (pass 1, outermost kernels only). */
  kernelMsPerStep: number;
  /** 1 − kernelMsPerStep / msPerStep: JS and engine work (tape, tidy, tensor bookkeeping, batch sampling). */
  overheadShare: number;
  /** Top kernels by tf.profile kernelMs (inclusive), with the kernel functions' self time of pass 1. */
  kernels: { name: string; profileMsPerStep: number; callsPerStep: number; selfMsPerStep: number | null; shareOfStep: number }[];
}

interface BackendResult {
  backend: BackendName;
  ok: boolean;
  error?: string;
  threads?: number;
  matmul?: { msPerOp: number; gflops: number; iters: number; vsReference: number | null };
  configs: ConfigResult[];
  profiles: ProfileResult[];
  kernelFixesOurs?: KernelFixTimings;
}

interface KernelFixComparison {
  stock: KernelFixTimings | null;
  ours: KernelFixTimings | null;
  error?: string;
  speedup: Partial<Record<keyof KernelFixTimings, number>>;
}

// ------------------------------------------------------------------------------------------ running

/**
 * Where a step's time goes. Pass 1 (not profiled): wall time and the time inside backend kernel
 * functions (withKernelClock), so the rest is JS/engine overhead. Pass 2: tf.profile, whose kernelMs
 * we aggregate by kernel name. tf.profile's times are inclusive: each includes the engine's
 * bookkeeping around the kernel (saving tensors for the tape, which on wasm runs Identity copies
 * that are listed too), and composite ops (`name__op`) include their nested kernels.
 */
async function profileSteps(trainer: Trainer, backend: BackendName, name: string, msPerStep: number): Promise<ProfileResult> {
  const steps = Math.min(10, Math.max(1, Math.round(500 / msPerStep)));
  const t0 = performance.now();
  const { clock } = withKernelClock(backend, () => {
    for (let i = 0; i < steps; i++) trainer.step();
  });
  const wallMs = (performance.now() - t0) / steps;
  const selfMsPerStep = clock.totalMs / steps;

  const t1 = performance.now();
  const info = await tf.profile(() => {
    for (let i = 0; i < steps; i++) trainer.step();
  });
  const profiledMs = (performance.now() - t1) / steps;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    byKernel.set(k.name, e);
  }
  const kernels = [...byKernel.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, TOP_KERNELS)
    .map(([kname, e]) => {
      const self = clock.byName.get(kname);
      return {
        name: kname,
        profileMsPerStep: e.ms / steps,
        callsPerStep: e.calls / steps,
        selfMsPerStep: self ? self.ms / steps : null,
        shareOfStep: e.ms / steps / wallMs,
      };
    });
  return {
    name,
    steps,
    msPerStep: wallMs,
    profiledMsPerStep: profiledMs,
    kernelMsPerStep: selfMsPerStep,
    overheadShare: Math.max(0, 1 - selfMsPerStep / wallMs),
    kernels,
  };
}

async function benchBackend(backend: BackendName, log: (s: string) => void): Promise<BackendResult> {
  let info;
  try {
    info = await initBackend({ backend });
  } catch (err) {
    return { backend, ok: false, error: oneLine(err).replace(/^no compute backend could start: \S+: /, ''), configs: [], profiles: [] };
  }
  const result: BackendResult = { backend, ok: true, threads: info.threads, configs: [], profiles: [] };
  log(`[${backend}] matmul reference`);
  const mm = matmulGflops(MATMUL.m, MATMUL.k, MATMUL.n, { warmup: 5, minSeconds: 1.5 });
  result.matmul = { msPerOp: mm.timing.meanMs, gflops: mm.gflops, iters: mm.timing.iters, vsReference: null };

  for (const w of workloads()) {
    log(`[${backend}] ${w.name}`);
    const trainer = makeTrainer(w.config);
    try {
      let finalLoss = NaN;
      const t = timeLoop(() => {
        finalLoss = trainer.step();
      }, w.timing(backend));
      const flops = estimateTrainFlops(trainer.config, trainer.batchSize, trainer.seqLen, 'last').total;
      const stepsPerSec = 1000 / t.meanMs;
      const gflops = (flops * stepsPerSec) / 1e9;
      result.configs.push({
        name: w.name,
        batch: trainer.batchSize,
        seqLen: trainer.seqLen,
        steps: t.iters,
        msPerStep: t.meanMs,
        stepsPerSec,
        flopsPerStep: flops,
        gflops,
        fractionOfMatmul: gflops / mm.gflops,
        vsReference: null,
        projectedSeconds: w.project ? PROJECT_STEPS / stepsPerSec : null,
        finalLoss,
      });
      if (w.profile) {
        log(`[${backend}] ${w.name} profile`);
        result.profiles.push(await profileSteps(trainer, backend, w.name, t.meanMs));
      }
      if (backend === 'wasm' && w.name === 'ocr-factorized') {
        log(`[${backend}] kernel-fix workloads (ours)`);
        result.kernelFixesOurs = measureKernelFixes(trainer, { warmup: 5, minSeconds: 0.5 });
      }
    } finally {
      trainer.dispose();
    }
  }
  return result;
}

function runStockWasm(ours: KernelFixTimings | undefined): KernelFixComparison {
  const child = spawnSync(process.execPath, [path.join(ROOT, 'scripts/run-ts.mjs'), path.join(ROOT, 'bench/stock-wasm-step.ts'), '--min-seconds', '0.5'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith('STOCK_WASM_RESULT '));
  if (child.status !== 0 || !line) {
    const why = child.error ? oneLine(child.error) : `exit ${child.status}: ${(child.stderr || child.stdout || '').trim().split('\n').slice(-1)[0] ?? ''}`;
    return { stock: null, ours: ours ?? null, error: `stock wasm child failed (${why})`, speedup: {} };
  }
  const stock = JSON.parse(line.slice('STOCK_WASM_RESULT '.length)) as KernelFixTimings;
  const speedup: KernelFixComparison['speedup'] = {};
  if (ours) for (const k of Object.keys(ours) as (keyof KernelFixTimings)[]) speedup[k] = stock[k] / ours[k];
  return { stock, ours: ours ?? null, speedup };
}

// ------------------------------------------------------------------------------------------ report

function table(headers: string[], rows: (string | number)[][], leftCols = 1): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const fmtRow = (r: string[]): string =>
    r
      .map((c, i) => (i < leftCols ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmtRow(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmtRow)].map((l) => `  ${l}`).join('\n');
}

const f = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
const ratio = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x >= 100 ? x.toFixed(0) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)}x`;
const pct = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const secs = (s: number | null): string => (s === null ? '' : s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);

function report(results: BackendResult[], fixes: KernelFixComparison | null, wasmFlags: { simd: boolean; threads: boolean } | null, totalSeconds: number): string {
  const out: string[] = [];
  const cpu = os.cpus();
  out.push(`OOCR Workbench training benchmark — tfjs ${tf.version.tfjs}, Node ${process.version}, ${cpu.length} CPU(s) (${cpu[0]?.model.trim() ?? '?'}), ${os.platform()}-${os.arch()}`);
  out.push('Backends:');
  for (const r of results) {
    const extra = r.ok ? (r.backend === 'wasm' && wasmFlags ? `ok (SIMD ${wasmFlags.simd ? 'on' : 'off'}, ${wasmFlags.threads ? 'multi-threaded' : 'single-threaded'})` : 'ok') : `unavailable: ${r.error}`;
    out.push(`  ${r.backend.padEnd(10)} ${extra}`);
  }
  const ok = results.filter((r) => r.ok);
  const refLabel = `vs ${REFERENCE}`;

  out.push('', `1. Reference: plain matMul ${MATMUL.m}x${MATMUL.k} · ${MATMUL.k}x${MATMUL.n} (${f((2 * MATMUL.m * MATMUL.k * MATMUL.n) / 1e6, 1)} MFLOP, dataSync each)`);
  out.push(table(['backend', 'ms/op', 'GFLOP/s', refLabel], ok.map((r) => [r.backend, f(r.matmul?.msPerOp), f(r.matmul?.gflops), ratio(r.matmul?.vsReference)])));

  out.push('', '2. Training step (sample batch + variableGrads(lastTokenLoss) + AdamW), seq 16, readout last');
  out.push('   GFLOP/s from estimateTrainFlops (3 x forward matmul FLOPs); "of matmul" = GFLOP/s / that backend\'s reference above');
  const rows: (string | number)[][] = [];
  for (const name of workloads().map((w) => w.name)) {
    for (const r of ok) {
      const c = r.configs.find((x) => x.name === name);
      if (!c) continue;
      rows.push([name, r.backend, c.batch, f(c.flopsPerStep / 1e6, 1), c.steps, f(c.msPerStep), f(c.stepsPerSec, 1), ratio(c.vsReference), f(c.gflops, 3), pct(c.fractionOfMatmul), c.projectedSeconds === null ? '' : secs(c.projectedSeconds)]);
    }
  }
  out.push(table(['config', 'backend', 'batch', 'MFLOP/step', 'timed', 'ms/step', 'steps/s', `${refLabel}`, 'GFLOP/s', 'of matmul', `${PROJECT_STEPS} steps`], rows, 2));
  out.push(`   "timed" = steps timed after warm-up; "${PROJECT_STEPS} steps" = projected training time of a preset run, without its evaluations.`);
  out.push('   big-2L-d256: 2 layers, d_model 256, 4 heads x 64, softmax, MLP 1024, LayerNorm, learned pos/embed/unembed, ocr-recall data.');
  for (const r of ok) {
    for (const c of r.configs) if (c.steps === 1) out.push(`   ${c.name} on ${r.backend}: a single step, not warmed up (too slow for more).`);
  }

  out.push('', "3. Where a preset step's time goes (ms per step; shares of the unprofiled step's wall time)");
  out.push('   "in kernels" = time inside backend kernel functions, timed around each (outermost) kernel call; the rest is JS/engine');
  out.push('   overhead. Table: top kernels by tf.profile kernelMs, which is inclusive (engine bookkeeping around each kernel, e.g.');
  out.push('   saving tensors for the tape; composite `__op` entries include their nested kernels), next to the self time.');
  for (const r of ok) {
    for (const p of r.profiles) {
      out.push(
        '',
        `   ${p.name} on ${r.backend} (${p.steps} step${p.steps === 1 ? '' : 's'}): step ${f(p.msPerStep)} ms = in kernels ${f(p.kernelMsPerStep)} ms (${pct(1 - p.overheadShare)}) + outside kernels ${pct(p.overheadShare)}; under tf.profile ${f(p.profiledMsPerStep)} ms`,
      );
      out.push(
        table(
          ['kernel', 'calls/step', 'profile ms', 'of step', 'self ms'],
          p.kernels.map((k) => [k.name, f(k.callsPerStep, 1), f(k.profileMsPerStep, 3), pct(k.shareOfStep), k.selfMsPerStep === null ? '-' : f(k.selfMsPerStep, 3)]),
        ),
      );
    }
  }

  out.push('', '4. wasm kernel fixes: stock tfjs-backend-wasm (fresh child process) vs ours (src/core/backend/kernels)');
  if (!fixes) out.push('   skipped: the wasm backend did not load');
  else if (!fixes.stock || !fixes.ours) out.push(`   skipped: ${fixes.error ?? 'no measurement'}`);
  else {
    const labels: Record<keyof KernelFixTimings, string> = {
      transposedMatmulMs: 'BatchMatMul 4032x128 · 128x128, transposeA',
      plainMatmulMs: 'BatchMatMul 4032x128 · 128x128, no transpose (control*)',
      gatherMs: 'GatherV2: 4032 rows of a 128x128 matrix',
      forwardMs: 'ocr-factorized forward pass (lastTokenLoss, batch 252)',
    };
    const keys = Object.keys(labels) as (keyof KernelFixTimings)[];
    out.push(table(['workload', 'stock ms', 'ours ms', 'speedup'], keys.map((k) => [labels[k], f(fixes.stock?.[k]), f(fixes.ours?.[k]), ratio(fixes.speedup[k])])));
    out.push('   * the same stock kernel in both processes: its ratio shows the process-to-process noise of these timings.');
    out.push('   Stock wasm has no UnsortedSegmentSum (the gradient of gather), so only forward work can be compared.');
  }
  out.push('', `Total bench time ${totalSeconds.toFixed(1)} s.`);
  return out.join('\n');
}

// --------------------------------------------------------------------------------------------- main

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 200);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const log = (s: string): void => void process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s ${s}\n`);
  const results: BackendResult[] = [];
  let wasmFlags: { simd: boolean; threads: boolean } | null = null;
  for (const backend of args.backends) {
    log(`[${backend}] starting`);
    const r = await benchBackend(backend, log);
    if (!r.ok) log(`[${backend}] unavailable: ${r.error}`);
    if (r.ok && backend === 'wasm') {
      wasmFlags = { simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')), threads: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) };
    }
    results.push(r);
  }

  const ref = results.find((r) => r.backend === REFERENCE && r.ok);
  for (const r of results) {
    if (!r.ok || !ref) continue;
    if (r.matmul && ref.matmul) r.matmul.vsReference = r.matmul.gflops / ref.matmul.gflops;
    for (const c of r.configs) {
      const rc = ref.configs.find((x) => x.name === c.name);
      c.vsReference = rc ? c.stepsPerSec / rc.stepsPerSec : null;
    }
  }

  let fixes: KernelFixComparison | null = null;
  if (ref) {
    log('[wasm] kernel-fix workloads (stock, child process)');
    fixes = runStockWasm(ref.kernelFixesOurs);
  }
  const totalSeconds = (performance.now() - t0) / 1000;
  console.log(report(results, fixes, wasmFlags, totalSeconds));

  if (args.out) {
    const file = path.resolve(args.out);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const json = {
      format: 'oocr-train-bench/1',
      date: new Date().toISOString(),
      tfjs: tf.version.tfjs,
      node: process.version,
      platform: `${os.platform()}-${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? null,
      reference: REFERENCE,
      matmulShape: MATMUL,
      wasmFlags,
      backends: results,
      kernelFixes: fixes,
      totalSeconds,
    };
    fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`Results written to ${path.relative(process.cwd(), file) || file}`);
  }
}

await main();
