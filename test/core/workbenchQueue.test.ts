import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkbenchEvent } from '../../src/shared/api';
import { createWorkbench, type Workbench } from '../../src/core/workbench';

/**
 * The workbench's job scheduler: a cap on jobs running at once (the rest wait, visible and
 * cancellable), one job per run folder, and shutdown that lets running jobs save.
 */

let dir: string;
let wb: Workbench;
const events: WorkbenchEvent[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-queue-'));
  wb = createWorkbench({ workspaceDir: dir, maxJobs: 1, analysisWorkers: 1 });
  wb.subscribe((e) => events.push(e));
});

afterAll(async () => {
  await wb.shutdown(30_000);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the first event matching `pred` (already seen or still to come). */
function nextEvent(pred: (e: WorkbenchEvent) => boolean): Promise<WorkbenchEvent> {
  const seen = events.find(pred);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const off = wb.subscribe((e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}

const ended = (jobId: string) => (e: WorkbenchEvent) => 'jobId' in e && e.jobId === jobId && (e.kind === 'finished' || e.kind === 'failed');

describe('job scheduler', () => {
  it('runs one job at a time when capped at one; the next waits, visible and cancellable; a name cannot start twice', async () => {
    const a = (await wb.call('startTraining', { preset: 'ocr-factorized', name: 'a', overrides: { steps: 400 } })) as { jobId: string };
    const b = (await wb.call('startTraining', { preset: 'ocr-factorized', name: 'b', overrides: { steps: 5 } })) as { jobId: string };
    const c = (await wb.call('startTraining', { preset: 'ocr-factorized', name: 'c', overrides: { steps: 5 } })) as { jobId: string };
    const jobs = (await wb.call('listJobs', undefined)) as { jobId: string; state: string; position?: number }[];
    expect(jobs.map((j) => [j.jobId, j.state, j.position])).toEqual([
      [a.jobId, 'running', undefined],
      [b.jobId, 'queued', 1],
      [c.jobId, 'queued', 2],
    ]);
    expect(events).toContainEqual({ jobId: b.jobId, runId: 'b', kind: 'queued', position: 1 });
    await expect(wb.call('startTraining', { preset: 'ocr-factorized', name: 'a', overrides: { steps: 5 } })).rejects.toThrow(/'a' already has a running job/);
    await expect(wb.call('startTraining', { preset: 'ocr-factorized', name: 'b', overrides: { steps: 5 } })).rejects.toThrow(/'b' already has a queued job/);

    // Cancelling a waiting job ends it without starting it: no folder is written.
    expect(await wb.call('cancel', { jobId: c.jobId })).toEqual({ cancelled: true });
    expect(await nextEvent(ended(c.jobId))).toMatchObject({ kind: 'finished', status: 'cancelled' });
    expect(fs.existsSync(path.join(dir, 'c'))).toBe(false);

    // Cancel the running one: it saves and ends; the queued one starts then.
    await wb.call('cancel', { jobId: a.jobId });
    expect(await nextEvent(ended(a.jobId))).toMatchObject({ kind: 'finished', status: 'cancelled' });
    await nextEvent((e) => 'jobId' in e && e.jobId === b.jobId && e.kind === 'started');
    expect(await nextEvent(ended(b.jobId))).toMatchObject({ kind: 'finished', status: 'completed' });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'b', 'run.json'), 'utf8')).status).toBe('completed');
    expect(await wb.call('listJobs', undefined)).toEqual([]);
  });

  it('resumes a cancelled run from the app: the job ends as an uninterrupted run of the same config would, byte for byte', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'a', 'run.json'), 'utf8'));
    expect(manifest.status).toBe('cancelled');
    expect((await wb.call('getRun', { id: 'a' })) as { manifest: { status: string } }).toMatchObject({ manifest: { status: 'cancelled' } });
    const r = (await wb.call('resumeRun', { id: 'a' })) as { jobId: string };
    expect(await nextEvent(ended(r.jobId))).toMatchObject({ kind: 'finished', status: 'completed' });
    await expect(wb.call('resumeRun', { id: 'a' })).rejects.toThrow(/has completed; there is nothing to resume/);
    const full = (await wb.call('startTraining', { preset: 'ocr-factorized', name: 'full', overrides: { steps: 400 } })) as { jobId: string };
    expect(await nextEvent(ended(full.jobId))).toMatchObject({ kind: 'finished', status: 'completed' });
    const last = (run: string): Buffer => {
      const ck = JSON.parse(fs.readFileSync(path.join(dir, run, 'run.json'), 'utf8')).checkpoints.at(-1).file as string;
      return fs.readFileSync(path.join(dir, run, ck));
    };
    expect(last('a').equals(last('full'))).toBe(true);
  });
});
