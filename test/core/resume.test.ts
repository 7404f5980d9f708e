import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendInfo } from '../../src/shared/backend';
import type { MetricsLine, RunManifest, TrainConfig } from '../../src/shared/modelConfig';
import { initBackend } from '../../src/core/backend/initBackend';
import { acquireRunLock, LOCK_FILE, readRunLock, RunLockedError } from '../../src/core/io/runLock';
import { checkpointPath, effectiveStatus, listRuns, readManifest, RUN_FILE, writeManifest } from '../../src/core/io/runStore';
import { startJob } from '../../src/core/jobs/jobRunner';
import { presetConfig } from '../../src/core/presets';
import { AdamW } from '../../src/core/train/adamw';
import { listOptimizerStates, optimizerStatePath, readTrainingState } from '../../src/core/train/optimizerState';
import { trainRun, type TrainResult } from '../../src/core/train/trainRun';
import { Rng } from '../../src/core/util/rng';

/**
 * Runs that stop (cancelled, killed) and resume: the resumed run's files are those of a run that never
 * stopped, bit for bit, because the optimizer state and the data stream's RNG are saved beside every
 * checkpoint. Also the folder lock: one job per run folder, and `interrupted` for a run whose job died.
 */

let backend: BackendInfo;
let tmp: string;

beforeAll(async () => {
  backend = await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-resume-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

let dirCount = 0;
function runDir(label: string): string {
  dirCount += 1;
  return path.join(tmp, `${label}-${dirCount}`);
}

/** ocr-factorized (the fastest preset: one linear-attention layer) cut to a few hundred steps. */
const OCR: TrainConfig = { ...presetConfig('ocr-factorized'), steps: 240, logEvery: 20, checkpointEvery: 30, evalSamples: 60, seed: 7 };
/** reversal covers MLP, LayerNorm, softmax attention and learned embeddings (slower per step: fewer, smaller ones). */
const REV: TrainConfig = { ...presetConfig('reversal'), steps: 40, batchSize: 32, logEvery: 10, checkpointEvery: 15, evalSamples: 30, seed: 2 };
const FINAL_SAMPLES = 80;

function train(config: TrainConfig, outDir: string, o: { cancelAt?: number; resume?: boolean } = {}): Promise<TrainResult> {
  let polls = 0;
  // Polled once before each step: the (k+1)th poll comes after step k, so the run stops at step k.
  const shouldCancel = o.cancelAt === undefined ? undefined : (): boolean => ++polls > (o.cancelAt as number);
  return trainRun({ config, preset: 'test', outDir, backend, finalEvalSamples: FINAL_SAMPLES, shouldCancel, resume: o.resume });
}

/** Files under `dir` (relative, sorted), recursively. */
function filesUnder(dir: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

function metricsLines(dir: string): MetricsLine[] {
  return fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as MetricsLine);
}

/** A random step in [lo, hi], printed so a failure can be reproduced. */
function randomStep(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

/**
 * Everything a resumed run must share with the uninterrupted one: every file byte for byte (checkpoints
 * included), metrics.jsonl line for line but for the wall-clock `time`, run.json but for times, backend
 * and the extra checkpoints at the steps where it was stopped.
 */
function expectSameRun(resumed: string, reference: string, stoppedAt: number[], config: TrainConfig): void {
  const extra = stoppedAt.filter((s) => s === 0 || s % config.checkpointEvery !== 0).map((s) => path.relative(resumed, checkpointPath(resumed, s)));
  const refFiles = filesUnder(reference);
  expect(filesUnder(resumed)).toEqual([...new Set([...refFiles, ...extra])].sort());
  for (const f of refFiles.filter((f) => f.startsWith('checkpoints'))) {
    expect(fs.readFileSync(path.join(resumed, f)).equals(fs.readFileSync(path.join(reference, f))), `${f} differs`).toBe(true);
  }
  const a = metricsLines(resumed);
  const b = metricsLines(reference);
  expect(a.map(({ time: _t, ...rest }) => rest)).toEqual(b.map(({ time: _t, ...rest }) => rest));
  for (let i = 1; i < a.length; i++) expect(a[i].time).toBeGreaterThanOrEqual(a[i - 1].time);
  const ma = readManifest(resumed);
  const mb = readManifest(reference);
  expect(ma.status).toBe('completed');
  expect(ma.error).toBeUndefined();
  expect(ma.step).toBe(config.steps);
  expect(ma.config).toEqual(mb.config);
  expect(ma.finalMetrics).toEqual(mb.finalMetrics);
  expect(ma.createdAt <= ma.updatedAt).toBe(true);
  expect(ma.checkpoints.map((c) => c.step)).toEqual([...new Set([...mb.checkpoints.map((c) => c.step), ...stoppedAt])].sort((x, y) => x - y));
}

describe('Rng state', () => {
  it('state() and fromState() continue the identical sequence, spare normal included', () => {
    const a = new Rng(42);
    for (let i = 0; i < 17; i++) a.nextUint32();
    a.normal(); // leaves a spare normal deviate behind
    const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())) as ReturnType<Rng['state']>);
    const draw = (r: Rng): number[] => [r.normal(), r.normal(), r.next(), r.int(0, 99), r.fork(3).nextUint32(), r.normal()];
    expect(draw(b)).toEqual(draw(a));
  });

  it('restore() refuses a state that is not one', () => {
    expect(() => new Rng(1).restore({ a: 1.5, b: 0, c: 0, d: 0, spareNormal: null })).toThrow(/invalid Rng state/);
  });
});

describe('AdamW state', () => {
  it('exportState/restoreState continue bit for bit', () => {
    const init = [tf.variable(tf.tensor([0.5, -1, 2])), tf.variable(tf.tensor([[1, 2], [3, 4]]))];
    const twin = init.map((v) => tf.variable(v.clone()));
    const cfg = presetConfig('ocr-factorized').optimizer;
    const a = new AdamW(init, cfg);
    const grads = (k: number): tf.Tensor[] => [tf.tensor([k, -2 * k, 0.1]), tf.tensor([[k, 1], [-k, 0.3]])];
    for (let k = 1; k <= 3; k++) tf.tidy(() => a.apply(grads(k)));
    twin.forEach((v, i) => v.assign(init[i]));
    const b = new AdamW(twin, cfg);
    b.restoreState(a.exportState());
    expect(b.step).toBe(3);
    for (let k = 4; k <= 6; k++) {
      tf.tidy(() => a.apply(grads(k)));
      tf.tidy(() => b.apply(grads(k)));
    }
    init.forEach((v, i) => expect(Buffer.from(twin[i].dataSync().buffer).equals(Buffer.from(v.dataSync().buffer))).toBe(true));
    expect(() => b.restoreState({ step: 1, m: [], v: [] })).toThrow(/moments for 0\/0 tensors but 2/);
    [a, b].forEach((o) => o.dispose());
    [...init, ...twin].forEach((v) => v.dispose());
  });
});

describe('resume: a stopped run continues bit for bit', () => {
  let reference: string;

  beforeAll(async () => {
    reference = runDir('ocr-ref');
    await train(OCR, reference);
  });

  it('the uninterrupted run keeps no optimizer state and no lock once completed', () => {
    expect(listOptimizerStates(reference)).toEqual([]);
    expect(fs.existsSync(path.join(reference, LOCK_FILE))).toBe(false);
  });

  it('cancelled twice at random steps and resumed twice, it ends with the uninterrupted run’s files', async () => {
    const first = randomStep(1, OCR.steps / 2);
    const second = randomStep(first + 1, OCR.steps - 1);
    const dir = runDir(`ocr-stop-${first}-${second}`);

    const r1 = await train(OCR, dir, { cancelAt: first });
    expect(r1.status, `cancel at ${first}`).toBe('cancelled');
    expect(r1.steps).toBe(first);
    expect(readManifest(dir).status).toBe('cancelled');
    // The cancelled run saved what it needs to resume, beside its weights; older states are gone.
    expect(listOptimizerStates(dir).map((o) => o.step)).toEqual([first]);
    const state = readTrainingState(optimizerStatePath(dir, first));
    expect(state.step).toBe(first);
    expect(state.optimizer.step).toBe(first);
    expect(state.names).toEqual(expect.arrayContaining(['blocks.0.attn.W_V', 'blocks.0.attn.W_O']));
    expect(state.optimizer.m.map((t) => t.shape)).toEqual(state.optimizer.v.map((t) => t.shape));
    expect(Object.keys(state.rngs)).toEqual(['data']);
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);

    const r2 = await train(OCR, dir, { cancelAt: second - first, resume: true });
    expect(r2.status, `second cancel at ${second}`).toBe('cancelled');
    expect(r2.steps).toBe(second);

    const r3 = await train(OCR, dir, { resume: true });
    expect(r3.status).toBe('completed');
    expect(r3.steps).toBe(OCR.steps);
    expectSameRun(dir, reference, [first, second], OCR);
  });

  it('a run cancelled before its first step resumes from that step-0 checkpoint, and again after a second stop', async () => {
    const dir = runDir('ocr-stop-0');
    expect((await train(OCR, dir, { cancelAt: 0 })).steps).toBe(0);
    expect(listOptimizerStates(dir).map((o) => o.step)).toEqual([0]);
    const at = randomStep(1, OCR.checkpointEvery - 1);
    expect((await train(OCR, dir, { cancelAt: at, resume: true })).steps, `second stop at ${at}`).toBe(at);
    expect(listOptimizerStates(dir).map((o) => o.step)).toEqual([at]);
    expect((await train(OCR, dir, { resume: true })).status).toBe('completed');
    expectSameRun(dir, reference, [0, at], OCR);
  });

  it('a run with every layer type (reversal preset) resumes bit for bit too', async () => {
    const ref = runDir('rev-ref');
    await train(REV, ref);
    const at = randomStep(1, REV.steps - 1);
    const dir = runDir(`rev-stop-${at}`);
    const tensors = tf.memory().numTensors;
    expect((await train(REV, dir, { cancelAt: at })).steps).toBe(at);
    expect((await train(REV, dir, { resume: true })).status).toBe('completed');
    expect(tf.memory().numTensors).toBe(tensors);
    expectSameRun(dir, ref, [at], REV);
  });

  it('an interrupted run (marked running, its lock naming a dead pid) is listed interrupted and resumes', async () => {
    const workspace = runDir('ws');
    const dir = path.join(workspace, 'killed');
    const every = OCR.checkpointEvery;
    const last = every * randomStep(1, OCR.steps / every - 2);
    await train(OCR, dir, { cancelAt: last });
    // What kill -9 a few steps after the checkpoint at `last` leaves: run.json still running, the lock
    // of a dead process, metrics logged since (the last line cut short), and the next model checkpoint
    // written without its optimizer state (killed between the two files).
    const m = readManifest(dir);
    writeManifest(dir, { ...m, status: 'running', finalMetrics: undefined });
    const later = fs
      .readFileSync(path.join(reference, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && (JSON.parse(l) as MetricsLine).step > last && (JSON.parse(l) as MetricsLine).step <= last + every);
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), `${later.join('\n')}\n{"step": ${last + every + 1}, "time": 1, "lo`);
    fs.copyFileSync(checkpointPath(reference, last + every), checkpointPath(dir, last + every));
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), hostname: os.hostname(), startedAt: new Date().toISOString() }));
    expect(listRuns(workspace).map((r) => r.manifest?.status), `stopped at ${last}`).toEqual(['interrupted']);
    expect(readManifest(dir).status).toBe('running');

    const r = await train(OCR, dir, { resume: true });
    expect(r.status).toBe('completed');
    expectSameRun(dir, reference, [], OCR);
    expect(listRuns(workspace).map((x) => x.manifest?.status)).toEqual(['completed']);
  });

  it('a run with no checkpoint yet starts again from step 0', async () => {
    const dir = runDir('nock');
    await train(OCR, dir, { cancelAt: 7 });
    for (const f of filesUnder(dir).filter((f) => f.startsWith('checkpoints'))) fs.rmSync(path.join(dir, f));
    const m = readManifest(dir);
    writeManifest(dir, { ...m, status: 'running', step: 7, checkpoints: [], finalMetrics: undefined });
    expect(effectiveStatus(dir, readManifest(dir))).toBe('interrupted');
    const events: string[] = [];
    const r = await trainRun({ config: OCR, preset: 'test', outDir: dir, backend, finalEvalSamples: FINAL_SAMPLES, resume: true, onEvent: (e) => e.kind === 'log' && events.push(e.message) });
    expect(events).toContain('resuming from step 0 (no checkpoint had been saved)');
    expect(r.steps).toBe(OCR.steps);
    expectSameRun(dir, reference, [], OCR);
  });

  it('refuses a completed run, another config, and a run without run.json, changing nothing', async () => {
    const before = fs.readFileSync(path.join(reference, RUN_FILE));
    await expect(train(OCR, reference, { resume: true })).rejects.toThrow(/is completed \(step 240 of 240\); there is nothing to resume/);
    const stopped = runDir('other-config');
    await train(OCR, stopped, { cancelAt: 5 });
    const manifest = fs.readFileSync(path.join(stopped, RUN_FILE));
    await expect(train({ ...OCR, steps: 300, optimizer: { ...OCR.optimizer, lr: 1e-3 } }, stopped, { resume: true })).rejects.toThrow(
      /cannot resume with a different config \(optimizer\.lr, steps differ from run\.json\)/,
    );
    expect(fs.readFileSync(path.join(stopped, RUN_FILE)).equals(manifest)).toBe(true);
    await expect(train(OCR, runDir('nothing'), { resume: true })).rejects.toThrow(/no run to resume \(no run\.json\)/);
    expect(fs.readFileSync(path.join(reference, RUN_FILE)).equals(before)).toBe(true);
  });
});

describe('one job per run folder', () => {
  it('two trainRun calls into one folder at once: one runs, the other is refused naming the lock and its pid', async () => {
    const config: TrainConfig = { ...OCR, steps: 40, checkpointEvery: 20 };
    const dir = runDir('twice');
    const results = await Promise.allSettled([train(config, dir), train(config, dir)]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const message = (refused[0].reason as Error).message;
    expect(refused[0].reason).toBeInstanceOf(RunLockedError);
    expect(message).toContain(`in use by another training job (pid ${process.pid} on ${os.hostname()}`);
    expect(message).toContain(path.join(path.resolve(dir), LOCK_FILE));
    // The folder holds one run: each logged step once, as a single uninterrupted run logs them.
    const ref = runDir('once');
    await train(config, ref);
    expect(metricsLines(dir).map((l) => l.step)).toEqual([1, 20, 40]);
    expectSameRun(dir, ref, [], config);
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('two training jobs racing for one folder in worker threads (as two startTraining calls do): one runs, the other is refused', async () => {
    const config: TrainConfig = { ...OCR, steps: 600, logEvery: 100, checkpointEvery: 200 };
    const dir = runDir('race');
    // The tfjs path: a fused run of 600 steps can finish before the second worker has started.
    const request = { kind: 'train' as const, train: { config, preset: 'test', outDir: dir, finalEvalSamples: FINAL_SAMPLES, fused: false } };
    const results = await Promise.allSettled([startJob(request).done, startJob(request).done]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    // Named by pid, or, when it read the lock while the winner was still writing it, as that.
    expect((refused[0].reason as Error).message).toMatch(new RegExp(`in use by another training job \\((pid ${process.pid} on |a job that is still creating its lock)`));
    expect(metricsLines(dir).map((l) => l.step)).toEqual([1, 100, 200, 300, 400, 500, 600]);
    expect(readManifest(dir).checkpoints.map((c) => c.step)).toEqual([200, 400, 600]);
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('a start or resume while a live job holds the lock is refused without touching the folder', async () => {
    const dir = runDir('held');
    await train(OCR, dir, { cancelAt: 3 });
    const lock = acquireRunLock(dir);
    try {
      const before = filesUnder(dir).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]);
      await expect(train(OCR, dir, { resume: true })).rejects.toThrow(new RegExp(`in use by another training job \\(pid ${process.pid} `));
      await expect(train(OCR, dir)).rejects.toThrow(/in use by another training job/);
      expect(filesUnder(dir).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')])).toEqual(before);
      expect(readRunLock(dir)).toEqual(lock.info);
    } finally {
      lock.release();
    }
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('the lock: exclusive, a dead owner’s is taken over, one being written counts as held', async () => {
    const dir = runDir('lock');
    const a = acquireRunLock(dir);
    expect(readRunLock(dir)).toEqual({ pid: process.pid, hostname: os.hostname(), startedAt: a.info.startedAt });
    expect(() => acquireRunLock(dir)).toThrow(RunLockedError);
    a.release();
    a.release();
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), hostname: os.hostname(), startedAt: 'then' }));
    const b = acquireRunLock(dir);
    expect(readRunLock(dir)?.pid).toBe(process.pid);
    b.release();
    // Another host's lock cannot be checked from here: it counts as live.
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), hostname: `${os.hostname()}-elsewhere`, startedAt: 'then' }));
    expect(() => acquireRunLock(dir)).toThrow(/elsewhere/);
    fs.writeFileSync(path.join(dir, LOCK_FILE), '');
    expect(() => acquireRunLock(dir)).toThrow(/a job that is still creating its lock/);
    fs.rmSync(path.join(dir, LOCK_FILE));
  });

  it('effectiveStatus: running with a live owner stays running; no lock means interrupted; other statuses pass through', () => {
    const dir = runDir('status');
    fs.mkdirSync(dir, { recursive: true });
    const m = { status: 'running' } as Pick<RunManifest, 'status'>;
    expect(effectiveStatus(dir, m)).toBe('interrupted');
    const lock = acquireRunLock(dir);
    expect(effectiveStatus(dir, m)).toBe('running');
    expect(effectiveStatus(dir, { status: 'cancelled' })).toBe('cancelled');
    lock.release();
  });
});

/** The pid of a process that has exited (and been reaped). */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(child.pid as number));
  });
}
