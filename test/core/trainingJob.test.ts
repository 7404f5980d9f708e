import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BACKEND_ORDER } from '../../src/shared/backend';
import type { TrainConfig } from '../../src/shared/modelConfig';
import type { JobEvent, ProgressEvent } from '../../src/shared/progress';
import { checkpointPath, readManifest } from '../../src/core/io/runStore';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { presetConfig } from '../../src/core/presets';
import { JobError } from '../../src/core/jobs/jobError';
import { startJob, type JobOutcome } from '../../src/core/jobs/jobRunner';

/**
 * startJob runs trainRun in a real worker thread (with tsx registered inside it, since these
 * tests run from the TypeScript sources). Everything here crosses that thread boundary for real.
 */

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-job-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function shortConfig(patch: Partial<TrainConfig> = {}, optimizer: Partial<TrainConfig['optimizer']> = {}): TrainConfig {
  const c = presetConfig('ocr-factorized');
  return { ...c, evalSamples: 120, ...patch, optimizer: { ...c.optimizer, ...optimizer } };
}

describe("startJob({ kind: 'train' })", () => {
  it('streams progress from the worker and resolves completed on the backend that loads, without blocking this thread', async () => {
    const outDir = path.join(tmp, 'complete');
    const steps = 300;
    const events: JobEvent[] = [];
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 10);
    const t0 = performance.now();
    let result: JobOutcome<'train'>;
    try {
      const job = startJob(
        { kind: 'train', train: { config: shortConfig({ steps, logEvery: 50, checkpointEvery: 100 }), preset: 'ocr-factorized', outDir } },
        (e) => events.push(e),
      );
      result = await job.done;
    } finally {
      clearInterval(timer);
    }
    const elapsedMs = performance.now() - t0;

    expect(result.status).toBe('completed');
    expect(result.steps).toBe(steps);
    expect(BACKEND_ORDER).toContain(result.backend.name);
    expect(result.runDir).toBe(path.resolve(outDir));
    expect(result.finalMetrics.test_impl_acc).toBeGreaterThanOrEqual(0);
    expect(readManifest(outDir).status).toBe('completed');

    const progress = events.filter((e): e is ProgressEvent => e.kind === 'progress');
    expect(progress.length).toBeGreaterThan(3);
    for (let i = 1; i < progress.length; i++) expect(progress[i].step).toBeGreaterThan(progress[i - 1].step);
    for (const p of progress) {
      expect(p.totalSteps).toBe(steps);
      expect(p.stepsPerSecond).toBeGreaterThan(0);
      expect(p.etaSeconds).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(p.loss)).toBe(true);
    }
    expect(progress[0].step).toBe(1);
    expect(progress[progress.length - 1].step).toBe(steps);
    expect(progress[progress.length - 1].etaSeconds).toBe(0);
    // Evaluations happen at step 1, every logEvery steps and at the end; those events carry metrics.
    const withMetrics = progress.filter((p) => p.metrics !== undefined).map((p) => p.step);
    expect(withMetrics).toEqual([1, 50, 100, 150, 200, 250, 300]);
    expect(Object.keys(progress[progress.length - 1].metrics ?? {})).toContain('test_impl_acc');

    // Checkpoint events for every saved file, in order.
    const saved = events.filter((e) => e.kind === 'checkpoint');
    expect(saved.map((e) => e.step)).toEqual([100, 200, 300]);
    for (const e of saved) expect(e.file).toBe(checkpointPath(path.resolve(outDir), e.step));

    // The caller's thread kept running its timers during the whole job (worker start included).
    expect(elapsedMs).toBeGreaterThan(1000);
    expect(ticks).toBeGreaterThan(20);
    // A 10 ms timer that fired at least a quarter as often as it could: no long stalls here.
    expect(ticks).toBeGreaterThan(elapsedMs / 10 / 4);
  });

  it('cancel() stops a long run after the current step and saves its weights', async () => {
    const outDir = path.join(tmp, 'cancel');
    const steps = 5000;
    let cancelledAt = -1;
    const progressSteps: number[] = [];
    const job = startJob({ kind: 'train', train: { config: shortConfig({ steps, checkpointEvery: 1000 }), preset: 'ocr-factorized', outDir } }, (e) => {
      if (e.kind !== 'progress') return;
      progressSteps.push(e.step);
      if (cancelledAt < 0 && e.step >= 20) {
        cancelledAt = e.step;
        job.cancel();
      }
    });
    const r = await job.done;

    expect(cancelledAt).toBeGreaterThanOrEqual(20);
    expect(r.status).toBe('cancelled');
    expect(r.steps).toBeGreaterThanOrEqual(cancelledAt);
    expect(r.steps).toBeLessThan(steps);
    // Only a few more steps ran between the cancel and the worker seeing it.
    expect(r.steps - cancelledAt).toBeLessThan(500);
    expect(BACKEND_ORDER).toContain(r.backend.name);

    const file = checkpointPath(path.resolve(outDir), r.steps);
    expect(fs.existsSync(file)).toBe(true);
    expect(loadCheckpoint(file).meta.step).toBe(r.steps);

    const m = readManifest(outDir);
    expect(m.status).toBe('cancelled');
    expect(m.step).toBe(r.steps);
    expect(m.checkpoints.map((c) => c.step)).toContain(r.steps);
    expect(m.finalMetrics).toEqual(r.finalMetrics);
  });

  it('a diverging run rejects with a JobError carrying the last good checkpoint', async () => {
    const outDir = path.join(tmp, 'nan');
    // lr 10, weight decay 10: weights scale by (1 − 100) per step until the loss is NaN (step 8).
    const job = startJob({
      kind: 'train',
      train: { config: shortConfig({ steps: 200, checkpointEvery: 2 }, { lr: 10, weightDecay: 10 }), preset: 'ocr-factorized', outDir },
    });
    const err = await job.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JobError);
    const e = err as JobError;
    expect(e.message).toContain('loss became');
    expect(e.message).toContain('last good checkpoint');
    expect(e.runDir).toBe(path.resolve(outDir));
    expect(e.lastGoodCheckpoint).not.toBeNull();
    const ck = loadCheckpoint(e.lastGoodCheckpoint as string);
    for (const [name, t] of Object.entries(ck.params)) expect(t.data.every(Number.isFinite), name).toBe(true);
    const m = readManifest(outDir);
    expect(m.status).toBe('failed');
    expect(m.error).toBe(e.message);
  });

  it('an invalid config rejects with a JobError and no run folder', async () => {
    const outDir = path.join(tmp, 'invalid');
    const c = shortConfig();
    const job = startJob({ kind: 'train', train: { config: { ...c, model: { ...c.model, ovRank: 256 } }, preset: null, outDir } });
    const err = await job.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as JobError).message).toContain('ovRank 256 exceeds dModel 128');
    expect((err as JobError).lastGoodCheckpoint).toBeNull();
    expect(fs.existsSync(outDir)).toBe(false);
  });
});
