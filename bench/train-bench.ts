// Training-speed benchmark: `npm run bench [-- --out FILE] [-- --backends wasm,cpu] [-- --only backends|factorization|step-forward]`.
//
// First (section 0), the factorization presets as a user runs them, beside an independent numpy
// implementation run in the same bench (bench/factorization_numpy.py): whole-process time of `oocr train
// --preset ocr-factorized|ocr-combined` (the bundled CLI, the fused wasm kernel where it fits) and of the
// numpy script, per-step time of both, and the CLI's start-up; medians of repeated runs, with ratios.
//
// Then (section 0b) two more of the project's workloads beside independent numpy implementations
// (bench/step_forward_numpy.py, float32, one BLAS thread): a training step of the 2-layer d=256 model
// below (the tfjs path on the backend the project picks), and a forward pass of the example workspace's
// world-base model on its checkpoint, whose logits the numpy forward must match (checked in the run).
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
import { FusedKernel } from '../src/core/fused/fusedKernel';
import { FUSED_BACKEND, fusedRefusal } from '../src/core/fused/fusedTrainer';
import { initParams, liveParams, paramSpecs } from '../src/core/model/params';
import { forward } from '../src/core/model/forward';
import { openRun } from '../src/core/runs/openRun';
import { createTask } from '../src/core/tasks/registry';
import { tidyHost } from '../src/core/util/tidyHost';
import { Rng } from '../src/core/util/rng';
import { makeTrainer, matmulGflops, measureKernelFixes, timeLoop, withKernelClock, type KernelFixTimings, type TimeLoopOptions, type Trainer } from './measure';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALL_BACKENDS: BackendName[] = ['tensorflow', 'wasm', 'cpu'];
const REFERENCE: BackendName = 'wasm';
const MATMUL = { m: 4032, k: 128, n: 128 };
const PROJECT_STEPS = 2000;
const TOP_KERNELS = 8;

// ---------------------------------------------------------------------------------------------- args

type Part = 'backends' | 'factorization' | 'step-forward';
const PARTS: Part[] = ['backends', 'factorization', 'step-forward'];

function parseArgs(argv: string[]): { out: string | null; backends: BackendName[]; only: Part | null } {
  let out: string | null = null;
  let only: Part | null = null;
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
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a === '--only' ? value() : a.slice('--only='.length);
      if (!(PARTS as string[]).includes(v)) throw new Error(`--only ${v}: expected ${PARTS.join(', ')}`);
      only = v as Part;
    } else throw new Error(`unknown argument '${a}' (expected --out FILE, --backends a,b, --only ${PARTS.join('|')})`);
  }
  return { out, backends, only };
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


// ------------------------------------------------------------- factorization presets vs numpy (section 0)

const FACTORIZATION_PRESETS = ['ocr-factorized', 'ocr-combined'] as const;
const WHOLE_RUNS = 3;
const STARTUP_RUNS = 7;
/** numpy with one BLAS thread: its fastest setting for these small products here (multi-threaded BLAS on 2 busy cores is several times slower). */
const NUMPY_ENV = { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

interface Spawned {
  seconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function timed(cmd: string, args: string[], env: Record<string, string> = {}): Spawned {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  return { seconds: (performance.now() - t0) / 1000, code: r.status, stdout: r.stdout ?? '', stderr: r.error ? oneLine(r.error) : (r.stderr ?? '') };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface PresetComparison {
  preset: string;
  /** Median whole-process seconds of `oocr train --preset P` (bundled CLI) and of the numpy script. */
  oocrSeconds: number | null;
  numpySeconds: number | null;
  /** Median ms per training step (sample a batch + forward + backward + AdamW), evaluations excluded. */
  oocrMsPerStep: number | null;
  numpyMsPerStep: number | null;
  /** run.json's backend of the timed oocr runs ('wasm-fused' where the kernel fits). */
  backend: string | null;
  oocrTestImplAcc: number | null;
  numpyTestImplAcc: number | null;
  error?: string;
}

interface StartupResult {
  /** Median seconds of `oocr --version` from the bundle, and from the sources through tsx. */
  versionBundle: number | null;
  versionTsx: number | null;
  /** Median seconds of a 1-step `oocr train` (bundle). */
  trainOneStep: number | null;
  /** Median seconds of `python3 -c "import numpy"`. */
  numpyImport: number | null;
}

interface FactorizationResult {
  presets: PresetComparison[];
  startup: StartupResult;
  python: string | null;
  build: string | null;
}

/** ms per step of the training loop's own step on the fused kernel (batch sampled in JS, as trainRun does). */
function fusedMsPerStep(preset: string): { ms: number; backend: string } {
  const config = presetConfig(preset);
  const refusal = fusedRefusal(config, 'wasm');
  if (refusal) throw new Error(`fused kernel not used: ${refusal}`);
  const task = createTask(config.task, config.taskOptions);
  const kernel = new FusedKernel(config.model, config.optimizer, task.seqLen);
  const host = initParams(config.model, config.seed);
  kernel.setParams(paramSpecs(config.model).filter((p) => p.trainable).map((p) => host[p.name].data));
  const rng = new Rng(config.seed).fork(1);
  const reps: number[] = [];
  for (let rep = 0; rep < 6; rep++) {
    const t = timeLoop(() => void kernel.step(task.sampleTrainBatch(rng, config.batchSize)), { warmup: rep === 0 ? 50 : 0, minSeconds: 0, maxIters: 300 });
    reps.push(t.meanMs);
  }
  return { ms: median(reps), backend: FUSED_BACKEND };
}

async function benchFactorization(log: (s: string) => void): Promise<FactorizationResult> {
  const oocr = path.join(ROOT, 'bin/oocr.mjs');
  // The bundle and the kernel as `npm ci`'s prepare builds them; the timed runs must use the bundle.
  log('[factorization] building out/fused and out/cli');
  const builds = [timed(process.execPath, [path.join(ROOT, 'scripts/build-fused.mjs'), '--quiet']), timed(process.execPath, [path.join(ROOT, 'scripts/build-cli.mjs'), '--quiet'])];
  const build = builds.find((b) => b.code !== 0);
  const py = timed('python3', ['-c', 'import numpy, sys; print(sys.version.split()[0], numpy.__version__)']);
  const python = py.code === 0 ? py.stdout.trim() : null;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-bench-'));
  const bundled = { OOCR_REQUIRE_BUNDLE: '1' };
  /** Rebuilds out/cli when a source changed since (a checkout others edit while the bench runs). */
  const freshen = (): void => {
    if (spawnSync(process.execPath, [oocr, '--help'], { cwd: ROOT, env: { ...process.env, ...bundled }, stdio: 'ignore' }).status === 3) {
      timed(process.execPath, [path.join(ROOT, 'scripts/build-cli.mjs'), '--quiet']);
    }
  };
  const presets: PresetComparison[] = [];
  try {
    for (const preset of FACTORIZATION_PRESETS) {
      log(`[factorization] ${preset}: ${WHOLE_RUNS} oocr train runs, ${WHOLE_RUNS} numpy runs`);
      const row: PresetComparison = { preset, oocrSeconds: null, numpySeconds: null, oocrMsPerStep: null, numpyMsPerStep: null, backend: null, oocrTestImplAcc: null, numpyTestImplAcc: null };
      const ours: number[] = [];
      const theirs: number[] = [];
      const theirSteps: number[] = [];
      // Alternate the two, so load changes on a shared machine hit both alike.
      for (let i = 0; i < WHOLE_RUNS; i++) {
        freshen();
        const out = path.join(tmp, `${preset}-${i}`);
        const r = timed(process.execPath, [oocr, 'train', '--preset', preset, '--out', out, '--json'], bundled);
        if (r.code !== 0) row.error = `oocr train exited ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`;
        else {
          ours.push(r.seconds);
          const summary = JSON.parse(r.stdout.trim().split('\n').slice(-1)[0]) as { metrics: Record<string, number> };
          row.oocrTestImplAcc = summary.metrics.test_impl_acc ?? null;
          row.backend = (JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { backend: string }).backend;
        }
        fs.rmSync(out, { recursive: true, force: true });
        if (python) {
          const n = timed('python3', [path.join(ROOT, 'bench/factorization_numpy.py'), '--preset', preset], NUMPY_ENV);
          if (n.code !== 0) row.error = `numpy exited ${n.code}: ${n.stderr.trim().split('\n').slice(-1)[0] ?? ''}`;
          else {
            theirs.push(n.seconds);
            const j = JSON.parse(n.stdout.trim().split('\n').slice(-1)[0]) as { msPerStep: number; final: Record<string, number> };
            theirSteps.push(j.msPerStep);
            row.numpyTestImplAcc = j.final.test_impl_acc ?? null;
          }
        }
      }
      row.oocrSeconds = ours.length ? median(ours) : null;
      row.numpySeconds = theirs.length ? median(theirs) : null;
      row.numpyMsPerStep = theirSteps.length ? median(theirSteps) : null;
      try {
        row.oocrMsPerStep = fusedMsPerStep(preset).ms;
      } catch (err) {
        row.error = oneLine(err);
      }
      presets.push(row);
    }
    log(`[factorization] start-up: ${STARTUP_RUNS} × oocr --version, 1-step train, python3 -c "import numpy"`);
    const med = (f: () => Spawned | null, n: number): number | null => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        freshen();
        const r = f();
        if (r && r.code === 0) xs.push(r.seconds);
      }
      return xs.length ? median(xs) : null;
    };
    const startup: StartupResult = {
      versionBundle: med(() => timed(process.execPath, [oocr, '--version'], bundled), STARTUP_RUNS),
      versionTsx: med(() => timed(process.execPath, [oocr, '--version'], { OOCR_FROM_SOURCE: '1' }), 3),
      trainOneStep: med(() => {
        const out = path.join(tmp, `one-${Math.random().toString(36).slice(2)}`);
        const r = timed(process.execPath, [oocr, 'train', '--steps', '1', '--out', out, '--json'], bundled);
        fs.rmSync(out, { recursive: true, force: true });
        return r;
      }, STARTUP_RUNS),
      numpyImport: python ? med(() => timed('python3', ['-c', 'import numpy']), STARTUP_RUNS) : null,
    };
    return { presets, startup, python, build: build ? `a build failed: ${build.stderr.trim().split('\n').slice(-1)[0] ?? ''}` : null };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function reportFactorization(r: FactorizationResult): string {
  const out: string[] = [];
  out.push('0. Factorization presets as a user runs them, vs an independent numpy implementation (bench/factorization_numpy.py)');
  out.push(`   medians of ${WHOLE_RUNS} runs each, alternated; numpy ${r.python ?? 'unavailable (python3 with numpy not found)'} with one BLAS thread; oocr through the bundled CLI`);
  if (r.build) out.push(`   ${r.build}`);
  const s = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(2)} s`);
  const ms = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(3)} ms`);
  const div = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a / b);
  out.push(
    table(
      ['preset', 'backend', 'oocr whole', 'numpy whole', 'oocr/numpy', 'oocr step', 'numpy step', 'oocr/numpy', 'test_impl oocr/numpy'],
      r.presets.map((p) => [
        p.preset,
        p.backend ?? 'n/a',
        s(p.oocrSeconds),
        s(p.numpySeconds),
        ratio(div(p.oocrSeconds, p.numpySeconds)),
        ms(p.oocrMsPerStep),
        ms(p.numpyMsPerStep),
        ratio(div(p.oocrMsPerStep, p.numpyMsPerStep)),
        `${f(p.oocrTestImplAcc, 3)} / ${f(p.numpyTestImplAcc, 3)}`,
      ]),
      2,
    ),
  );
  for (const p of r.presets) if (p.error) out.push(`   ${p.preset}: ${p.error}`);
  out.push('   whole = the process from start to exit: 2,000 steps, the curve every 50 steps, checkpoints every 250, the final evaluation.');
  out.push('   step = sample a batch + forward + backward + AdamW, in-process (oocr: the fused kernel; target: whole ≤ 0.5x numpy).');
  const u = r.startup;
  out.push('', '   Start-up (median of repeated runs):');
  out.push(
    table(
      ['what', 'seconds', 'vs numpy import'],
      [
        ['oocr --version (bundle, out/cli)', f(u.versionBundle, 3), ratio(div(u.versionBundle, u.numpyImport))],
        ['oocr --version (sources through tsx)', f(u.versionTsx, 3), ratio(div(u.versionTsx, u.numpyImport))],
        ['oocr train --steps 1 (bundle)', f(u.trainOneStep, 3), ratio(div(u.trainOneStep, u.numpyImport))],
        ['python3 -c "import numpy"', f(u.numpyImport, 3), ''],
      ],
    ),
  );
  return out.join('\n');
}

// ------------------------------------------- 2-layer d=256 step and world-base forward vs numpy (section 0b)

const STEP_FORWARD_ROUNDS = 3;
/** tfjs steps timed per round (each on its own); the numpy script times NUMPY_STEPS per round after its warm-up. */
const OUR_STEPS_PER_ROUND = 3;
const NUMPY_STEPS = 5;
const FORWARD_BATCHES = [1, 128];
const WORLD_BASE = 'resources/workspace/world-base';
/**
 * Largest logit difference accepted between the numpy and the tfjs world-base forward, relative to the
 * largest |logit|: the trained model's logits reach ~180, where float32's spacing is 1.5e-5 (numpy's
 * own float32 forward differs from its float64 one by ~1e-4 there).
 */
const FORWARD_TOLERANCE = 1e-5;

interface StepForwardResult {
  /** The backend the project picks (initBackend's order), which the tfjs timings ran on. */
  backend: string;
  python: string | null;
  step: {
    name: string;
    batch: number;
    seqLen: number;
    flopsPerStep: number;
    /** Median ms of a step (sample a batch + forward + backward + AdamW), warm-up excluded, over every round. */
    oursMs: number | null;
    numpyMs: number | null;
    oursSteps: number;
    numpySteps: number;
    /** The loss of the first (untrained) step: both near ln(d_vocab) plus the initial logits' spread. */
    oursFirstLoss: number | null;
    numpyFirstLoss: number | null;
    error?: string;
  };
  forward: {
    checkpoint: string;
    seqLen: number;
    /** Rows of the batch on which the numpy logits were compared with the tfjs ones. */
    checkedRows: number;
    /** Largest |numpy − tfjs| logit over those rows (must be ≤ FORWARD_TOLERANCE × maxAbsLogit). */
    maxAbsDiff: number | null;
    /** Largest |logit| of the tfjs forward over those rows. */
    maxAbsLogit: number | null;
    /** Per batch size: the median of the rounds' median ms of one forward (logits read back). */
    rows: { batch: number; oursMs: number | null; numpyMs: number | null }[];
    error?: string;
  };
}

function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').slice(-1)[0]) as T;
}

function lastLine(s: string): string {
  return s.trim().split('\n').slice(-1)[0] ?? '';
}

async function benchStepForward(log: (s: string) => void): Promise<StepForwardResult> {
  const info = await initBackend();
  const py = timed('python3', ['-c', 'import numpy, sys; print(sys.version.split()[0], numpy.__version__)']);
  const python = py.code === 0 ? py.stdout.trim() : null;
  const script = path.join(ROOT, 'bench/step_forward_numpy.py');

  // The 2-layer d=256 training step, alternating tfjs and numpy rounds so load changes hit both alike.
  const big = workloads().find((w) => w.name === 'big-2L-d256');
  if (!big) throw new Error('no big-2L-d256 workload');
  const trainer = makeTrainer(big.config);
  const step: StepForwardResult['step'] = {
    name: big.name,
    batch: trainer.batchSize,
    seqLen: trainer.seqLen,
    flopsPerStep: estimateTrainFlops(trainer.config, trainer.batchSize, trainer.seqLen, 'last').total,
    oursMs: null,
    numpyMs: null,
    oursSteps: 0,
    numpySteps: 0,
    oursFirstLoss: null,
    numpyFirstLoss: null,
  };
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    log(`[step-forward] ${big.name} on ${info.name}: ${STEP_FORWARD_ROUNDS} rounds of ${OUR_STEPS_PER_ROUND} tfjs steps and a numpy process of ${NUMPY_STEPS}`);
    step.oursFirstLoss = trainer.step();
    trainer.step(); // warm-up: kernels, allocator growth
    for (let round = 0; round < STEP_FORWARD_ROUNDS; round++) {
      for (let i = 0; i < OUR_STEPS_PER_ROUND; i++) ours.push(timeLoop(() => void trainer.step(), { warmup: 0, minSeconds: 0, maxIters: 1 }).meanMs);
      if (!python) continue;
      const n = timed('python3', [script, 'step', '--batch', String(step.batch), '--steps', String(NUMPY_STEPS), '--warmup', '2'], NUMPY_ENV);
      if (n.code !== 0) {
        step.error = `numpy exited ${n.code}: ${lastLine(n.stderr)}`;
        continue;
      }
      const j = lastJson<{ msTimes: number[]; firstLoss: number; seqLen: number }>(n.stdout);
      if (j.seqLen !== step.seqLen) step.error = `numpy ran sequences of ${j.seqLen}, tfjs of ${step.seqLen}`;
      theirs.push(...j.msTimes);
      step.numpyFirstLoss = j.firstLoss;
    }
  } catch (err) {
    step.error = oneLine(err);
  } finally {
    trainer.dispose();
  }
  step.oursMs = ours.length ? median(ours) : null;
  step.numpyMs = theirs.length ? median(theirs) : null;
  step.oursSteps = ours.length;
  step.numpySteps = theirs.length;

  // The world-base forward (full read-out: logits at every position) on the example checkpoint.
  const runDir = path.join(ROOT, WORLD_BASE);
  const fwd: StepForwardResult['forward'] = { checkpoint: '', seqLen: 0, checkedRows: 0, maxAbsDiff: null, maxAbsLogit: null, rows: FORWARD_BATCHES.map((batch) => ({ batch, oursMs: null, numpyMs: null })) };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-bench-'));
  try {
    const run = openRun(runDir);
    const file = run.manifest.checkpoints.slice(-1)[0]?.file;
    if (!file) throw new Error(`${WORLD_BASE}: no checkpoint`);
    fwd.checkpoint = path.join(WORLD_BASE, file);
    const params = liveParams(run.params);
    try {
      // A fixed batch of the world task's own prompts: the check batch; its first row, repeated, the timed one.
      if (!run.task) throw new Error(`${WORLD_BASE}: its task could not be made`);
      const sample = run.task.sampleTrainBatch(new Rng(7), 32);
      const T = sample.seqLen;
      fwd.seqLen = T;
      fwd.checkedRows = sample.batch;
      const logitsOf = (tokens: Int32Array, b: number): Float32Array =>
        tidyHost(() => forward(run.config, params, tf.tensor2d(tokens, [b, T], 'int32')).logits.dataSync() as Float32Array);
      const expected = logitsOf(sample.tokens, sample.batch);
      const V = run.config.dVocab;
      const nested = Array.from({ length: sample.batch }, (_, b) => Array.from({ length: T }, (_, t) => Array.from(expected.subarray((b * T + t) * V, (b * T + t + 1) * V))));
      const tokenRows = Array.from({ length: sample.batch }, (_, b) => Array.from(sample.tokens.subarray(b * T, (b + 1) * T)));
      const checkFile = path.join(tmp, 'world-base-check.json');
      fs.writeFileSync(checkFile, JSON.stringify({ tokens: tokenRows, logits: nested }));

      log(`[step-forward] world-base forward, batches ${FORWARD_BATCHES.join(', ')} of ${T} tokens: ${STEP_FORWARD_ROUNDS} rounds, tfjs and numpy`);
      const oursRounds = FORWARD_BATCHES.map(() => [] as number[]);
      const theirRounds = FORWARD_BATCHES.map(() => [] as number[]);
      for (let round = 0; round < STEP_FORWARD_ROUNDS; round++) {
        FORWARD_BATCHES.forEach((b, i) => {
          const tokens = new Int32Array(b * T);
          for (let r = 0; r < b; r++) tokens.set(sample.tokens.subarray(0, T), r * T);
          const reps = b <= 8 ? 100 : 20;
          for (let k = 0; k < 5; k++) logitsOf(tokens, b);
          const times: number[] = [];
          for (let k = 0; k < reps; k++) times.push(timeLoop(() => void logitsOf(tokens, b), { warmup: 0, minSeconds: 0, maxIters: 1 }).meanMs);
          oursRounds[i].push(median(times));
        });
        if (!python) continue;
        const n = timed('python3', [script, 'forward', path.join(ROOT, fwd.checkpoint), '--check', checkFile, '--batches', FORWARD_BATCHES.join(',')], NUMPY_ENV);
        if (n.code !== 0) {
          fwd.error = `numpy exited ${n.code}: ${lastLine(n.stderr)}`;
          continue;
        }
        const j = lastJson<{ maxAbsDiff: number; maxAbsLogit: number; msPerForward: Record<string, number> }>(n.stdout);
        fwd.maxAbsDiff = Math.max(fwd.maxAbsDiff ?? 0, j.maxAbsDiff);
        fwd.maxAbsLogit = j.maxAbsLogit;
        FORWARD_BATCHES.forEach((b, i) => theirRounds[i].push(j.msPerForward[String(b)]));
      }
      fwd.rows = FORWARD_BATCHES.map((batch, i) => ({ batch, oursMs: oursRounds[i].length ? median(oursRounds[i]) : null, numpyMs: theirRounds[i].length ? median(theirRounds[i]) : null }));
      if (fwd.maxAbsDiff !== null && !(fwd.maxAbsDiff <= FORWARD_TOLERANCE * Math.max(1, fwd.maxAbsLogit ?? 0))) {
        fwd.error = `the numpy logits differ from the tfjs ones by ${fwd.maxAbsDiff.toExponential(2)} (> ${FORWARD_TOLERANCE} x max |logit|): not the same model`;
      }
    } finally {
      Object.values(params).forEach((t) => t.dispose());
    }
  } catch (err) {
    fwd.error = oneLine(err);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { backend: info.name, python, step, forward: fwd };
}

function reportStepForward(r: StepForwardResult): string {
  const out: string[] = [];
  const cpu = os.cpus();
  out.push('0b. The 2-layer d=256 training step and a world-base forward, vs independent numpy implementations (bench/step_forward_numpy.py)');
  out.push(
    `    ${cpu.length} CPU(s) (${cpu[0]?.model.trim() ?? '?'}), ${os.platform()}-${os.arch()}, Node ${process.version}; tfjs ${tf.version.tfjs} on ${r.backend} (the backend the project picks);`,
  );
  out.push(`    numpy ${r.python ?? 'unavailable (python3 with numpy not found)'}, float32, one BLAS thread; medians over ${STEP_FORWARD_ROUNDS} alternated rounds`);
  const ms = (x: number | null): string => (x === null ? 'n/a' : x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
  const div = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a / b);
  const s = r.step;
  const fw = r.forward;
  const rows: (string | number)[][] = [
    [`${s.name} training step`, `batch ${s.batch} x ${s.seqLen}`, ms(s.oursMs), ms(s.numpyMs), ratio(div(s.oursMs, s.numpyMs)), 'target ≤ 1.5x'],
    ...fw.rows.map((x) => [`world-base forward`, `batch ${x.batch} x ${fw.seqLen}`, ms(x.oursMs), ms(x.numpyMs), ratio(div(x.oursMs, x.numpyMs)), '']),
  ];
  out.push(table(['workload', 'shape', 'tfjs ms', 'numpy ms', 'tfjs/numpy', ''], rows, 2));
  const met = s.oursMs !== null && s.numpyMs !== null ? (s.oursMs <= 1.5 * s.numpyMs ? 'met' : 'NOT met') : 'n/a';
  out.push(
    `    step = sample a batch + forward + backward + AdamW (loss at the last token; ${f(s.flopsPerStep / 1e9, 1)} GFLOP by estimateTrainFlops: tfjs ${f(s.oursMs ? s.flopsPerStep / s.oursMs / 1e6 : null, 1)}, numpy ${f(s.numpyMs ? s.flopsPerStep / s.numpyMs / 1e6 : null, 1)} GFLOP/s); ${s.oursSteps} tfjs and ${s.numpySteps} numpy steps timed. Target ≤ 1.5x: ${met}.`,
  );
  out.push(`    first-step loss (random init; ln ${BIG_MODEL.dVocab} = ${Math.log(BIG_MODEL.dVocab).toFixed(2)}): tfjs ${f(s.oursFirstLoss, 3)}, numpy ${f(s.numpyFirstLoss, 3)}`);
  out.push(
    `    forward = logits at every position, read back; ${fw.checkpoint || WORLD_BASE}; numpy's logits vs tfjs's on ${fw.checkedRows} prompts:`,
    `    max |diff| ${fw.maxAbsDiff === null ? 'n/a' : fw.maxAbsDiff.toExponential(1)} with logits up to ${f(fw.maxAbsLogit, 1)} (tolerance ${FORWARD_TOLERANCE} x max |logit|)`,
  );
  if (s.error) out.push(`    step: ${s.error}`);
  if (fw.error) out.push(`    forward: ${fw.error}`);
  return out.join('\n');
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
  const wants = (part: Part): boolean => args.only === null || args.only === part;
  const factorization = wants('factorization') ? await benchFactorization(log) : null;
  if (factorization) console.log(`${reportFactorization(factorization)}\n`);
  const stepForward = wants('step-forward') ? await benchStepForward(log) : null;
  if (stepForward) console.log(`${reportStepForward(stepForward)}\n`);
  // A numpy forward that does not reproduce the checkpoint's logits measures another model: fail the bench.
  if (stepForward?.forward.maxAbsDiff != null && stepForward.forward.maxAbsDiff > FORWARD_TOLERANCE * Math.max(1, stepForward.forward.maxAbsLogit ?? 0)) process.exitCode = 1;
  for (const backend of wants('backends') ? args.backends : []) {
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
  if (ref && wants('backends')) {
    log('[wasm] kernel-fix workloads (stock, child process)');
    fixes = runStockWasm(ref.kernelFixesOurs);
  }
  const totalSeconds = (performance.now() - t0) / 1000;
  if (wants('backends')) console.log(report(results, fixes, wasmFlags, totalSeconds));

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
      factorization,
      stepForward,
      backends: results,
      kernelFixes: fixes,
      totalSeconds,
    };
    fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`Results written to ${path.relative(process.cwd(), file) || file}`);
  }
}

await main();
