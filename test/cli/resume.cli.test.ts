import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listRuns } from '../../src/core/io/runStore';
import { lastLine, oocr as runCli, startCli as start, waitForCli as waitFor, type CliResult } from './runCli';

/**
 * `oocr train` stopped every way a process stops — SIGKILL (nothing runs: the run stays marked running
 * and is listed interrupted), SIGTERM (cancels after the current step, like Ctrl-C) — and continued
 * with `oocr train --resume RUN`: the final checkpoint is byte for byte that of a run never stopped.
 */

/** Runs the CLI to completion (SIGKILL after two minutes, as `start`). */
function oocr(args: string[]): Promise<CliResult> {
  return runCli(args, { timeoutMs: 120_000 });
}

function stepFile(dir: string, step: number, optim = false): string {
  return path.join(dir, 'checkpoints', `step-${String(step).padStart(6, '0')}${optim ? '.optim' : ''}.safetensors`);
}

function runJson(dir: string): { status: string; step: number; finalMetrics?: Record<string, number> } {
  return JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as { status: string; step: number; finalMetrics?: Record<string, number> };
}

function metricsWithoutTime(dir: string): unknown[] {
  return fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const { time: _time, ...rest } = JSON.parse(l) as { time: number };
      return rest;
    });
}

const STEPS = 600;
const EVERY = 40;
const TRAIN = ['train', '--preset', 'ocr-factorized', '--seed', '3', '--steps', String(STEPS), '--checkpoint-every', String(EVERY), '--log-every', '50', '--eval-samples', '40', '--json'];

let tmp: string;
let reference: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-resume-cli-'));
  reference = path.join(tmp, 'reference');
  const r = await oocr([...TRAIN, '--out', reference]);
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Every checkpoint of the reference run is in `dir` with the same bytes; metrics and final numbers agree. */
function expectSameAsReference(dir: string): void {
  const names = fs.readdirSync(path.join(reference, 'checkpoints')).sort();
  expect(names).toContain(path.basename(stepFile(reference, STEPS)));
  for (const n of names) {
    expect(fs.readFileSync(path.join(dir, 'checkpoints', n)).equals(fs.readFileSync(path.join(reference, 'checkpoints', n))), `${n} differs`).toBe(true);
  }
  expect(metricsWithoutTime(dir)).toEqual(metricsWithoutTime(reference));
  expect(runJson(dir).finalMetrics).toEqual(runJson(reference).finalMetrics);
  expect(fs.existsSync(path.join(dir, '.lock'))).toBe(false);
}

describe('oocr train --resume', () => {
  it('after SIGKILL past a checkpoint: the run is left running with a dead lock, and resumes to the same final checkpoint', async () => {
    const dir = path.join(tmp, 'killed');
    const job = start([...TRAIN, '--out', dir]);
    // Past the first checkpoint once its optimizer state is on disk (written right after the weights).
    await waitFor(() => fs.existsSync(stepFile(dir, EVERY, true)), job, `step ${EVERY} was saved`);
    job.child.kill('SIGKILL');
    const killed = await job.done;
    expect(killed.signal).toBe('SIGKILL');
    const m = runJson(dir);
    expect(m.status).toBe('running');
    expect(m.step).toBeLessThan(STEPS);
    const lock = JSON.parse(fs.readFileSync(path.join(dir, '.lock'), 'utf8')) as { pid: number; hostname: string };
    expect(lock.pid).toBe(job.child.pid);
    expect(lock.hostname).toBe(os.hostname());

    // The listing says what happened (run.json is not rewritten for it).
    expect(listRuns(tmp).find((l) => l.dir === dir)?.manifest?.status).toBe('interrupted');

    const r = await oocr(['train', '--resume', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(lastLine(r.stdout)) as { status: string; steps: number; run: string };
    expect(s.status).toBe('completed');
    expect(s.steps).toBe(STEPS);
    expect(s.run).toBe(path.resolve(dir));
    expect(runJson(dir).status).toBe('completed');
    expectSameAsReference(dir);
  }, 180_000);

  it.each(['SIGTERM', 'SIGHUP'] as const)('%s cancels after the current step (exit 130, cancelled, resumable) and the resumed run matches', async (signal) => {
    const dir = path.join(tmp, `stopped-${signal}`);
    const job = start([...TRAIN, '--out', dir]);
    await waitFor(() => fs.existsSync(stepFile(dir, EVERY)), job, `step ${EVERY} was saved`);
    job.child.kill(signal);
    const r = await job.done;
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    // SIGHUP: the terminal is gone, so it says nothing more there.
    if (signal === 'SIGTERM') expect(r.stderr).toContain('oocr: SIGTERM: cancelling after the current step (SIGTERM again to abort)');
    else expect(r.stderr).not.toContain('cancelling');
    const s = JSON.parse(lastLine(r.stdout)) as { status: string; steps: number };
    expect(s.status).toBe('cancelled');
    const m = runJson(dir);
    expect(m.status).toBe('cancelled');
    expect(m.step).toBe(s.steps);
    expect(fs.existsSync(stepFile(dir, s.steps))).toBe(true);
    expect(fs.existsSync(stepFile(dir, s.steps, true))).toBe(true);
    expect(fs.existsSync(path.join(dir, '.lock'))).toBe(false);

    if (s.steps < STEPS) {
      const resumed = await oocr(['train', '--resume', dir, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect((JSON.parse(lastLine(resumed.stdout)) as { status: string }).status).toBe('completed');
    }
    expectSameAsReference(dir);
    // A completed run keeps no optimizer state.
    expect(fs.readdirSync(path.join(dir, 'checkpoints')).filter((n) => n.includes('.optim.'))).toEqual([]);
  }, 180_000);

  it('refuses config flags, --out together with --resume, and a completed run, naming why', async () => {
    const flags = await oocr(['train', '--resume', reference, '--steps', '900', '--lr', '0.1']);
    expect(flags.code).toBe(1);
    expect(flags.stderr).toContain('oocr: --resume continues the run with the config in its run.json; --steps, --lr would change it');
    const both = await oocr(['train', '--resume', reference, '--out', path.join(tmp, 'x')]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give either --out (a new run) or --resume (an existing one), not both');
    const done = await oocr(['train', '--resume', reference]);
    expect(done.code).toBe(1);
    expect(done.stderr).toContain(`is completed (step ${STEPS} of ${STEPS}); there is nothing to resume`);
    const none = await oocr(['train']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("required option '--out <dir>' not specified");
    expect(fs.existsSync(path.join(tmp, 'x'))).toBe(false);
  }, 120_000);
});
