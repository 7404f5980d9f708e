import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLog } from './workbenchEvents';
import type { JobInfo, RunDetails, RunSummary, WorkbenchEvent } from '../../src/shared/api';
import type { SweepDetails, SweepListItem, SweepPlan, SweepPresetInfo, SweepWorkbenchEvent } from '../../src/shared/sweeps';
import { ApiArgumentError, createWorkbench, type Workbench } from '../../src/core/workbench';
import { RunId } from '../../src/shared/runId';

/**
 * Sweeps through the workbench API (what the Sweeps view and web mode call): start from a preset or a
 * spec, events while it runs, list / get / cancel, resume, bad specs and arguments refused with clear
 * errors, the cells listed and opened as ordinary runs. Waits on events, never on a clock.
 */
let tmp: string;
let ws: string;
let wb: Workbench;
const { events, record, waitFor } = eventLog();

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-sweeps-api-'));
  ws = path.join(tmp, 'ws');
  fs.mkdirSync(ws);
  wb = createWorkbench({ workspaceDir: ws, maxJobs: 2, analysisWorkers: 1 });
  wb.subscribe(record);
});

afterAll(async () => {
  await wb.shutdown(20_000);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const isSweep = (e: WorkbenchEvent): e is SweepWorkbenchEvent => e.kind.startsWith('sweep-');
const ended = (name: string) => (e: WorkbenchEvent) => isSweep(e) && e.kind === 'sweep-state' && e.sweep === name && ['completed', 'failed', 'cancelled'].includes(e.state);

const spec = (over: Record<string, unknown> = {}) => ({
  name: 'tiny',
  preset: 'ocr-factorized',
  grid: { ovRank: [1, 8], seed: [0] },
  fixed: { steps: 20, batchSize: 32, logEvery: 5, checkpointEvery: 10, evalSamples: 20 },
  metrics: ['test_impl_acc', 'test_fact_acc'],
  ...over,
});

describe('sweeps through the workbench API', () => {
  it('lists the shipped presets', async () => {
    const presets = (await wb.call('listSweepPresets', undefined)) as SweepPresetInfo[];
    expect(presets.map((p) => p.name)).toEqual(expect.arrayContaining(['rank-sweep', 'smoke']));
    expect(presets.find((p) => p.name === 'rank-sweep')?.cells).toBe(27);
    expect(await wb.call('listSweeps', undefined)).toEqual([]);
  });

  it('checks a sweep without starting it', async () => {
    const plan = (await wb.call('checkSweep', { spec: spec() })) as SweepPlan;
    expect(plan).toMatchObject({ name: 'tiny', specName: 'tiny', preset: 'ocr-factorized', cells: 2, resumes: false });
    expect(plan.workers).toBeGreaterThanOrEqual(1);
    expect(plan.workers).toBeLessThanOrEqual(2);
    expect(((await wb.call('checkSweep', { preset: 'rank-sweep', steps: 10, name: 'rank' })) as SweepPlan).cells).toBe(27);
    expect(fs.existsSync(path.join(ws, 'sweeps', 'tiny'))).toBe(false);
  });

  it('refuses bad specs and arguments with clear errors', async () => {
    const refused = async (args: unknown, msg: RegExp, method = 'startSweep') => {
      const p = wb.call(method, args);
      await expect(p).rejects.toBeInstanceOf(ApiArgumentError);
      await expect(p).rejects.toThrow(msg);
    };
    await refused({ spec: spec({ grid: { rnak: [1, 2] } }) }, /grid\.rnak: unknown override 'rnak'/);
    await refused({ spec: spec({ grid: { seed: [] } }) }, /grid\.seed: a grid entry needs at least one value/);
    await refused({ spec: spec({ preset: 'ocr-combined' }) }, /cell ovRank-1_seed-0: override ovRank applies to factorized/);
    await refused({ spec: spec({ grid: { ovRank: [1e6] } }) }, /cell ovRank-1000000/);
    const big = spec({ grid: { seed: Array.from({ length: 1001 }, (_, i) => i) } });
    await refused({ spec: big, name: 'big' }, /1001 cells \(more than 1000\)/, 'checkSweep');
    expect(((await wb.call('checkSweep', { spec: big, name: 'big', allowLarge: true })) as SweepPlan).cells).toBe(1001);
    await refused({ spec: spec({ name: 'has space' }) }, /not a folder name.*give the sweep a name/);
    await refused({ preset: 'nope' }, /unknown sweep preset 'nope'/);
    await refused({ preset: 'smoke', spec: spec() }, /either `preset`.*or `spec`/);
    await refused({}, /either `preset`/);
    await refused({ preset: 'smoke', steps: 0 }, /steps/);
    await refused({ preset: 'smoke', steps: 2.5 }, /steps/);
    await refused({ preset: 'smoke', workers: 1000 }, /workers/);
    await refused({ preset: 'smoke', name: '../x' }, /name/);
    await refused({ preset: 'smoke', name: '.hidden' }, /name/);
    await refused({ preset: 'smoke', extra: 1 }, /extra|unrecognized/i);
    await refused({ spec: 'not an object' }, /spec/);
    await refused({ preset: 'smoke', redis: 'http://127.0.0.1:6379' }, /redis/);
    await refused({ preset: 'smoke', redis: 'redis://127.0.0.1:6379', workers: 2 }, /workers are for local sweeps/);
    await refused({ preset: 'smoke', redis: 'redis://127.0.0.1:6379', workers: 2 }, /workers are for local sweeps/, 'checkSweep');
    await refused({ name: '../etc' }, /name/, 'getSweep');
    await refused({ name: 'nothing-here' }, /no sweep 'nothing-here'/, 'getSweep');
    await refused({ name: 'nothing-here' }, /no sweep 'nothing-here'/, 'cancelSweep');
    await refused({ name: 'x', more: 1 }, /more|unrecognized/i, 'cancelSweep');
    // A folder that is not this sweep's.
    fs.mkdirSync(path.join(ws, 'sweeps', 'taken'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'sweeps', 'taken', 'notes.txt'), 'mine');
    await refused({ preset: 'smoke', name: 'taken' }, /sweeps\/taken exists and holds no sweep\.json/);
    // A training run may not take the sweeps folder's name.
    await refused({ preset: 'ocr-factorized', name: 'sweeps' }, /'sweeps' is the folder of the workspace's sweeps/, 'startTraining');
  });

  it('runs a 2-cell sweep as a job: events per cell, list, get, results, cells as runs', async () => {
    const started = (await wb.call('startSweep', { spec: spec() })) as { jobId: string; name: string; cells: number; workers: number };
    expect(started).toMatchObject({ name: 'tiny', cells: 2 });
    // The sweep is a job of the queue, holding one slot per worker.
    const jobs = (await wb.call('listJobs', undefined)) as JobInfo[];
    expect(jobs.find((j) => j.jobId === started.jobId)?.kind).toBe('sweep');
    expect(jobs.filter((j) => j.kind === 'sweep-worker')).toHaveLength(started.workers - 1);
    // A second start of the same sweep while it runs is refused.
    await expect(wb.call('startSweep', { spec: spec() })).rejects.toThrow(/already/);

    await waitFor((e) => isSweep(e) && e.kind === 'sweep-progress' && e.sweep === 'tiny' && e.step > 0);
    const end = (await waitFor(ended('tiny'))) as Extract<SweepWorkbenchEvent, { kind: 'sweep-state' }>;
    expect(end.state).toBe('completed');
    const cellEvents = events.filter((e): e is Extract<SweepWorkbenchEvent, { kind: 'sweep-cell' }> => e.kind === 'sweep-cell' && e.sweep === 'tiny');
    expect(cellEvents.filter((e) => e.status === 'running').map((e) => e.cell).sort()).toEqual(['ovRank-1_seed-0', 'ovRank-8_seed-0']);
    expect(cellEvents.filter((e) => e.status === 'completed').map((e) => e.done).sort()).toEqual([1, 2]);
    expect(cellEvents.every((e) => e.worker === 'local' && e.total === 2)).toBe(true);
    // The extra slots are given back.
    await expect.poll(async () => ((await wb.call('listJobs', undefined)) as JobInfo[]).length).toBe(0);

    const list = (await wb.call('listSweeps', undefined)) as SweepListItem[];
    expect(list.find((s) => s.name === 'tiny')).toMatchObject({ specName: 'tiny', preset: 'ocr-factorized', total: 2, completed: 2, failed: 0, running: 0, state: 'idle' });

    const d = (await wb.call('getSweep', { name: 'tiny' })) as SweepDetails;
    expect(d.dir).toBe('sweeps/tiny');
    expect(d.state).toBe('idle');
    expect(d.spec.grid).toEqual({ ovRank: [1, 8], seed: [0] });
    expect(d.chance.test_impl_acc).toBeCloseTo(1 / 20, 10);
    expect(d.presets.map((p) => p.name)).toContain('smoke');
    expect(d.cells.map((c) => [c.id, c.runId, c.status, c.step, c.steps, c.worker])).toEqual([
      ['ovRank-1_seed-0', 'sweeps/tiny/runs/ovRank-1_seed-0', 'completed', 20, 20, 'local'],
      ['ovRank-8_seed-0', 'sweeps/tiny/runs/ovRank-8_seed-0', 'completed', 20, 20, 'local'],
    ]);
    for (const c of d.cells) expect(typeof c.metrics?.test_impl_acc).toBe('number');
    expect(fs.readFileSync(path.join(ws, 'sweeps', 'tiny', 'results.csv'), 'utf8').split('\n')[0]).toBe('cell,ovRank,seed,status,test_impl_acc,test_fact_acc,run');

    // Listed and opened as ordinary runs, and analyses work on them.
    const runs = (await wb.call('listRuns', undefined)) as RunSummary[];
    expect(runs.map((r) => r.id)).toEqual(expect.arrayContaining(['sweeps/tiny/runs/ovRank-1_seed-0', 'sweeps/tiny/runs/ovRank-8_seed-0']));
    const run = (await wb.call('getRun', { id: 'sweeps/tiny/runs/ovRank-8_seed-0' })) as RunDetails;
    expect(run.manifest.config.model.ovRank).toBe(8);
    expect(run.checkpoints).toEqual([10, 20]);
    const ov = (await wb.call('analyze', { kind: 'ov-spectrum', id: 'sweeps/tiny/runs/ovRank-1_seed-0' })) as { kind: string };
    expect(ov.kind).toBe('ov-spectrum');

    // Again with the same spec: nothing left to do; a different spec under the same name is refused.
    expect(((await wb.call('checkSweep', { spec: spec() })) as SweepPlan).resumes).toBe(true);
    await expect(wb.call('startSweep', { spec: spec(), steps: 25 })).rejects.toThrow(/holds sweep 'tiny' with a different spec/);
  }, 300_000);

  it('cancels a running sweep: running cells stop (saved, resumable), queued ones never start', async () => {
    const long = spec({ name: 'long', grid: { seed: [0, 1, 2, 3] }, fixed: { steps: 5000, batchSize: 32, logEvery: 5, checkpointEvery: 50, evalSamples: 20 } });
    await wb.call('startSweep', { spec: long, workers: 1 });
    await waitFor((e) => isSweep(e) && e.kind === 'sweep-progress' && e.sweep === 'long' && e.step >= 5);
    const running = (await wb.call('getSweep', { name: 'long' })) as SweepDetails;
    expect(running.state).toBe('running');
    const live = running.cells.find((c) => c.status === 'running');
    expect(live?.worker).toBe('local');
    expect(live?.steps).toBe(5000);
    expect(((await wb.call('listSweeps', undefined)) as SweepListItem[]).find((s) => s.name === 'long')?.running).toBe(1);
    expect(await wb.call('cancelSweep', { name: 'long' })).toEqual({ cancelled: true });
    const end = (await waitFor(ended('long'))) as Extract<SweepWorkbenchEvent, { kind: 'sweep-state' }>;
    expect(end.state).toBe('cancelled');
    const d = (await wb.call('getSweep', { name: 'long' })) as SweepDetails;
    expect(d.cells.map((c) => c.status)).toEqual(['cancelled', 'pending', 'pending', 'pending']);
    expect(d.cells[0].step).toBeGreaterThan(0);
    expect(d.cells[0].step).toBeLessThan(5000);
    expect(await wb.call('cancelSweep', { name: 'long' })).toEqual({ cancelled: false });
  }, 300_000);
});

describe('sweep cell run ids', () => {
  it('accepts sweeps/<name>/runs/<cell> (cell ids with %-escapes) and nothing that leaves the folder', () => {
    for (const ok of ['ocr', 'group/run', 'sweeps/rank/runs/ovRank-8_seed-1', 'sweeps/x/runs/taskOptions.implication-a%20b%2fc', 'sweeps/x/runs/lr-1e+21']) expect(RunId.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['sweeps/x/runs/..', 'sweeps/../runs/a', 'sweeps/x/runs/.a', 'sweeps/x/other/a', 'a/b/c', 'sweeps/x/runs/a/b', 'sweeps/x/runs/%2e%2e/../a', '/abs', 'a%b']) expect(RunId.safeParse(bad).success, bad).toBe(false);
  });
});

describe('listRuns with sweeps', () => {
  it('lists the cells of sweeps/<name>/ (with sweep.json) as runs, and nothing from a sweeps folder without one', async () => {
    const { listRuns } = await import('../../src/core/io/runStore');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-sweeps-list-'));
    try {
      const manifest = fs.readFileSync(path.join(import.meta.dirname, '../../resources/workspace/ocr-factorized/run.json'), 'utf8');
      const mkRun = (rel: string) => {
        fs.mkdirSync(path.join(root, rel), { recursive: true });
        fs.writeFileSync(path.join(root, rel, 'run.json'), manifest);
      };
      mkRun('plain');
      mkRun('group/run');
      mkRun('sweeps/a/runs/seed-0');
      mkRun('sweeps/a/runs/seed-1');
      fs.writeFileSync(path.join(root, 'sweeps/a/sweep.json'), '{}');
      // No sweep.json: not a sweep, its runs/ not looked into (two levels down is never a run of the workspace).
      mkRun('sweeps/b/runs/seed-0');
      // Deeper folders inside a sweep's runs are not runs either.
      mkRun('sweeps/a/runs/seed-0/checkpoints/x');
      const ids = listRuns(root).map((r) => path.relative(root, r.dir).split(path.sep).join('/'));
      expect(ids).toEqual(['group/run', 'plain', 'sweeps/a/runs/seed-0', 'sweeps/a/runs/seed-1']);
      expect(listRuns(root).every((r) => r.manifest?.status === 'completed')).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('sweeps in web mode (oocr serve)', () => {
  it('reaches the sweep methods through the generic /api dispatch; bad arguments are 400 with the message', async () => {
    const { startWebServer } = await import('../../src/cli/commands/serve');
    // A workbench of its own over the same workspace: closing the server shuts it down.
    const srv = await startWebServer(createWorkbench({ workspaceDir: ws, maxJobs: 1, analysisWorkers: 1 }), { staticDir: tmp });
    try {
      const call = async (method: string, args?: unknown) => {
        const r = await fetch(`http://127.0.0.1:${srv.port}/api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${srv.token}` },
          body: JSON.stringify({ args }),
        });
        return { status: r.status, body: (await r.json()) as { result?: unknown; error?: string } };
      };
      const presets = await call('listSweepPresets');
      expect(presets.status).toBe(200);
      expect((presets.body.result as SweepPresetInfo[]).map((p) => p.name)).toContain('rank-sweep');
      expect((await call('getSweep', { name: 'tiny' })).status).toBe(200);
      for (const [method, args, message] of [
        ['getSweep', { name: '../x' }, 'sweep name'],
        ['startSweep', { preset: 'smoke', workers: 0 }, 'workers'],
        ['startSweep', { spec: { name: 'x', preset: 'ocr-factorized', grid: { rnak: [1] }, metrics: ['m'] } }, "unknown override 'rnak'"],
        ['checkSweep', { preset: 'smoke', redis: 'redis://10.0.0.1:6379', workers: 2 }, 'workers are for local sweeps'],
        ['cancelSweep', {}, 'name'],
      ] as const) {
        const r = await call(method, args);
        expect(r.status, `${method} ${JSON.stringify(args)}`).toBe(400);
        expect(r.body.error).toContain(message);
      }
    } finally {
      await srv.close();
    }
  });
});
