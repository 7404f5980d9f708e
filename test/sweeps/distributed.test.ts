import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { lastJson, oocr, startCli, waitForCli } from '../cli/runCli';
import { readSweepRecord } from '../../src/core/sweeps/runSweep';
import { checkCellJob, DEFAULT_QUEUE, OWNER_FIELD } from '../../src/core/sweeps/redisCells';
import { createWorkbench } from '../../src/core/workbench';
import type { WorkbenchEvent } from '../../src/shared/api';
import { presetConfig } from '../../src/core/presets';
import { REDIS_UNAVAILABLE, startTestRedis, type TestRedis } from './redisServer';

/**
 * Distributed sweeps on a real redis-server: `oocr sweep --redis` as the coordinator and `oocr worker`
 * processes, one of them killed with SIGKILL in the middle of a cell. Every cell still completes, the
 * killed cell continues from its last checkpoint on the other worker, and the results are byte for
 * byte those of a local run of the same spec.
 */

const SPEC = {
  name: 'dist',
  preset: 'ocr-factorized',
  grid: { ovRank: [1, 8], seed: [0, 1] },
  fixed: { steps: 400, batchSize: 64, logEvery: 20, checkpointEvery: 20, evalSamples: 40 },
  metrics: ['test_impl_acc', 'test_fact_acc'],
};
const CELLS = ['ovRank-1_seed-0', 'ovRank-1_seed-1', 'ovRank-8_seed-0', 'ovRank-8_seed-1'];
/**
 * Every process of these tests trains on the tfjs path: the fused kernel finishes a 400-step cell in
 * ~0.1 s, too soon to kill a worker in the middle of one (the results must match either way).
 */
const ENV = { ...process.env, OOCR_FUSED: '0' };

let redis: TestRedis;
let tmp: string;
let specFile: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-dist-'));
  specFile = path.join(tmp, 'spec.json');
  fs.writeFileSync(specFile, JSON.stringify(SPEC));
  if (!REDIS_UNAVAILABLE) redis = await startTestRedis();
}, 30_000);

afterAll(async () => {
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A cell whose worker `name` has uploaded a resumable checkpoint at or after `step` to the queue. */
async function uploadedBy(client: Redis, queue: string, name: string, step: number): Promise<string | null> {
  for (const key of await client.keys(`oocr:${queue}:files:*`)) {
    const owner = await client.hget(key, OWNER_FIELD);
    if (!owner?.startsWith(`${name}/`)) continue;
    const optim = (await client.hkeys(key)).map((f) => /step-(\d+)\.optim/.exec(f)).find((m) => m && Number(m[1]) >= step);
    if (optim) return key.slice(key.indexOf('.', key.indexOf(':files:')) + 1); // files:<sweep id>.<cell id>
  }
  return null;
}

const worker = (name: string, queue: string, workspace: string): ReturnType<typeof startCli> =>
  startCli(['worker', '--redis', redis.url, '--queue', queue, '--workspace', workspace, '--concurrency', '1', '--lock-seconds', '2', '--name', name], 240_000, ENV);

describe.skipIf(REDIS_UNAVAILABLE !== null)(`distributed sweeps on redis-server${REDIS_UNAVAILABLE ? ` (skipped: ${REDIS_UNAVAILABLE})` : ''}`, () => {
  it('two workers share a sweep; one killed with SIGKILL mid-cell loses nothing and the results equal a local run', async () => {
    const queue = `t-${randomUUID().slice(0, 8)}`;
    const a = worker('wA', queue, path.join(tmp, 'wA'));
    const b = worker('wB', queue, path.join(tmp, 'wB'));
    const out = path.join(tmp, 'dist');
    const coord = startCli(['sweep', '--spec', specFile, '--out', out, '--redis', redis.url, '--queue', queue, '--json'], 240_000, ENV);
    // Kill A in the middle of a cell, once a resumable checkpoint of it has reached the queue.
    const client = new Redis(redis.url);
    let cell: string | null = null;
    while (cell === null) {
      cell = await uploadedBy(client, queue, 'wA', 60);
      if (a.child.exitCode !== null) throw new Error(`worker A exited early: ${a.output().stderr}`);
      if (coord.child.exitCode !== null) throw new Error(`the sweep ended before worker A could be killed mid-cell: ${coord.output().stderr}`);
      if (cell === null) await new Promise((r) => setTimeout(r, 20));
    }
    a.child.kill('SIGKILL');
    const ra = await a.done;
    expect(ra.signal).toBe('SIGKILL');

    const rc = await coord.done;
    expect(rc.code, rc.stderr).toBe(0);
    expect(lastJson(rc.stdout)).toMatchObject({ cells: 4, completed: 4, failed: 0, cancelled: 0 });
    // The killed cell went back on the queue and continued on B from a checkpoint, not from scratch.
    await waitForCli(() => b.output().stderr.includes(`dist/${cell}: completed`), b, `B finished ${cell}`);
    const resumed = new RegExp(`dist/${cell}: resuming from step (\\d+)`).exec(b.output().stderr);
    expect(resumed, b.output().stderr).not.toBeNull();
    expect(Number(resumed?.[1])).toBeGreaterThanOrEqual(20);
    const record = readSweepRecord(out);
    expect(record?.cells.find((c) => c.id === cell)?.worker).toMatch(/^wB$/);

    // The same spec run locally: identical results.csv and identical weights, cell by cell.
    const local = path.join(tmp, 'local');
    const rl = await oocr(['sweep', '--spec', specFile, '--out', local, '--workers', '2', '--json'], { timeoutMs: 240_000, env: ENV });
    expect(rl.code, rl.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8')).toBe(fs.readFileSync(path.join(local, 'results.csv'), 'utf8'));
    for (const c of CELLS) {
      const files = fs.readdirSync(path.join(local, 'runs', c, 'checkpoints')).sort();
      expect(fs.readdirSync(path.join(out, 'runs', c, 'checkpoints')).sort()).toEqual(files);
      for (const f of files) expect(fs.readFileSync(path.join(out, 'runs', c, 'checkpoints', f)).equals(fs.readFileSync(path.join(local, 'runs', c, 'checkpoints', f))), `${c}/${f}`).toBe(true);
    }
    const kept = (dir: string): unknown => JSON.parse(fs.readFileSync(path.join(dir, 'runs', cell, 'run.json'), 'utf8')).checkpoints;
    expect(kept(out)).toEqual(kept(local));

    // Nothing of the sweep is left in Redis, and B stops cleanly on SIGTERM.
    expect(await client.keys(`oocr:${queue}:files:*`)).toEqual([]);
    client.disconnect();
    b.child.kill('SIGTERM');
    expect((await b.done).code).toBe(0);
  }, 240_000);

  it('a coordinator killed with SIGKILL resumes on re-run: finished cells are collected, none is trained twice', async () => {
    const queue = `t-${randomUUID().slice(0, 8)}`;
    const ws = path.join(tmp, 'wC');
    const w = worker('wC', queue, ws);
    const out = path.join(tmp, 'restart');
    const first = startCli(['sweep', '--spec', specFile, '--out', out, '--redis', redis.url, '--queue', queue, '--json'], 240_000, ENV);
    await waitForCli(() => (readSweepRecord(out)?.cells.filter((c) => c.status === 'completed').length ?? 0) >= 1, first, 'one cell completed');
    first.child.kill('SIGKILL');
    await first.done;
    const again = await oocr(['sweep', '--spec', specFile, '--out', out, '--redis', redis.url, '--queue', queue, '--json'], { timeoutMs: 240_000, env: ENV });
    expect(again.code, again.stderr).toBe(0);
    const summary = lastJson<{ completed: number; skipped: number }>(again.stdout);
    expect(summary.completed).toBe(4);
    expect(summary.skipped).toBeGreaterThanOrEqual(1);
    const log = w.output().stderr;
    for (const c of CELLS) expect(log.split(`dist/${c}: starting`).length - 1, log).toBe(1);
    expect(log).not.toMatch(/resuming/);
    w.child.kill('SIGTERM');
    expect((await w.done).code).toBe(0);
  }, 240_000);

  it('the app coordinates a distributed sweep through the workbench API (startSweep with redis), cells trained by an oocr worker', async () => {
    // The app puts cells on the default queue; only this test uses it.
    const w = worker('wDefault', DEFAULT_QUEUE, path.join(tmp, 'wApp'));
    const ws = path.join(tmp, 'app-ws');
    fs.mkdirSync(ws);
    const wb = createWorkbench({ workspaceDir: ws, maxJobs: 2, analysisWorkers: 1 });
    const seen: WorkbenchEvent[] = [];
    let wake = (): void => {};
    wb.subscribe((e) => {
      seen.push(e);
      wake();
    });
    try {
      const plan = (await wb.call('checkSweep', { preset: 'smoke', name: 'dist-app', redis: redis.url })) as { workers: number; cells: number };
      expect(plan).toMatchObject({ cells: 2, workers: 0 });
      const started = (await wb.call('startSweep', { preset: 'smoke', name: 'dist-app', redis: redis.url })) as { workers: number };
      expect(started.workers).toBe(1);
      const done = (e: WorkbenchEvent): boolean => e.kind === 'sweep-state' && (e as { sweep: string }).sweep === 'dist-app' && ['completed', 'failed', 'cancelled'].includes((e as { state: string }).state);
      while (!seen.some(done)) await new Promise<void>((r) => (wake = r));
      expect(seen.find(done)).toMatchObject({ state: 'completed' });
      const cellEvents = seen.filter((e) => e.kind === 'sweep-cell' && (e as { status: string }).status === 'running') as unknown as { worker: string }[];
      expect(cellEvents.some((e) => e.worker === 'wDefault')).toBe(true);
      const details = (await wb.call('getSweep', { name: 'dist-app' })) as { cells: { status: string }[] };
      expect(details.cells.map((c) => c.status)).toEqual(['completed', 'completed']);
    } finally {
      await wb.shutdown(20_000);
      w.child.kill('SIGTERM');
      await w.done;
    }
  }, 240_000);

  it('a Redis that restarts empty mid-sweep (no persistence) loses no cell: the coordinator queues lost ones again', async () => {
    const own = await startTestRedis({ own: true });
    const port = Number(new URL(own.url).port);
    let server = own;
    const ws = path.join(tmp, 'wR');
    const w = startCli(['worker', '--redis', own.url, '--workspace', ws, '--concurrency', '1', '--lock-seconds', '2', '--name', 'wR'], 240_000, ENV);
    const out = path.join(tmp, 'restart-redis');
    const coord = startCli(['sweep', '--spec', specFile, '--out', out, '--redis', own.url, '--json'], 240_000, ENV);
    try {
      await waitForCli(() => (readSweepRecord(out)?.cells.filter((c) => c.status === 'completed').length ?? 0) >= 1, coord, 'one cell completed');
      await server.stop();
      server = await startTestRedis({ own: true, port });
      const r = await coord.done;
      expect(r.code, r.stderr).toBe(0);
      expect(lastJson(r.stdout)).toMatchObject({ cells: 4, completed: 4, failed: 0 });
      expect(r.stderr).toMatch(/is no longer on the queue; queueing it again/);
    } finally {
      w.child.kill('SIGTERM');
      await w.done;
      await server.stop();
    }
  }, 240_000);

  it('refuses a bad --redis URL and an unreachable server with a clear error', async () => {
    const bad = await oocr(['sweep', '--preset', 'smoke', '--out', path.join(tmp, 'bad'), '--redis', 'http://user:hunter2@x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/expected a redis:\/\/ or rediss:\/\/ URL/);
    // A password never reaches a message.
    expect(bad.stderr).not.toContain('hunter2');
    expect(bad.stderr).toContain('***');
    const down = await oocr(['worker', '--redis', 'redis://127.0.0.1:1', '--workspace', path.join(tmp, 'wD')]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach Redis at 127\.0\.0\.1:1/);
  }, 60_000);
});

describe('sweep specs refused before anything runs', () => {
  const run = (spec: unknown, extra: string[] = []): ReturnType<typeof oocr> => {
    const f = path.join(tmp, `bad-${randomUUID().slice(0, 6)}.json`);
    fs.writeFileSync(f, JSON.stringify(spec));
    return oocr(['sweep', '--spec', f, '--out', path.join(tmp, `o-${randomUUID().slice(0, 6)}`), ...extra]);
  };
  const base = { name: 'bad', preset: 'ocr-factorized', metrics: ['test_impl_acc'] };

  it('an unknown override, an empty grid, and 100,000 cells without --yes each get a one-line reason', async () => {
    const [unknown, empty, huge] = await Promise.all([
      run({ ...base, grid: { rnak: [1, 2] } }),
      run({ ...base, grid: {} }),
      run({ ...base, grid: { seed: Array.from({ length: 1000 }, (_, i) => i), lr: Array.from({ length: 100 }, (_, i) => 1e-3 * (i + 1)) } }),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/grid\.rnak: unknown override 'rnak'/);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/has no cells/);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/has 100000 cells \(more than 1000\); check the grid, and pass --yes/);
  }, 60_000);
});

describe('queue payloads a worker refuses before anything runs', () => {
  it('names ids that would leave the workspace, unknown presets and invalid configs', () => {
    const good = { format: 'oocr-cell/1', sweepId: randomUUID(), sweepName: 's', cellId: 'seed-0', preset: 'ocr-factorized', config: presetConfig('ocr-factorized') };
    expect(checkCellJob(good).cellId).toBe('seed-0');
    expect(() => checkCellJob({ ...good, format: 'x' })).toThrow(/not an oocr-cell\/1 cell/);
    for (const cellId of ['../etc', '..', 'a/b', '']) expect(() => checkCellJob({ ...good, cellId })).toThrow(/bad cell id/);
    expect(() => checkCellJob({ ...good, sweepId: '../x' })).toThrow(/bad sweep id/);
    expect(() => checkCellJob({ ...good, preset: 'rm -rf' })).toThrow(/unknown preset/);
    expect(() => checkCellJob({ ...good, config: { ...good.config, steps: -1 } })).toThrow(/invalid train config/);
  });
});
