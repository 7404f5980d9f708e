// Sweep throughput: `npm run bench:sweeps [-- --cells N --steps S]`.
//
// The same sweep (ocr-factorized, N seeds, S steps each) three ways in one run: 1 and 2 local worker
// threads (`oocr sweep --workers`), and 2 `oocr worker` processes on a BullMQ queue on a real
// redis-server started here on a free loopback port (`oocr sweep --redis`). Prints cells per minute and
// ratios against the 1-worker local run, then the overhead a cell pays for the queue: the same sweep of
// 1-step cells through a local worker and through the queue, per cell. Worker processes are started
// (and their Redis connection made) before the clock starts, as they would be on real machines. Not a
// unit test: timings depend on the machine and its load.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDistributedSweep } from '../src/core/sweeps/distributedSweep';
import { runSweep } from '../src/core/sweeps/runSweep';
import { parseSweepSpec, type SweepSpec } from '../src/core/sweeps/sweepSpec';
// The tests' redis-server on a free loopback port (or OOCR_TEST_REDIS_URL's).
import { REDIS_UNAVAILABLE, startTestRedis } from '../test/sweeps/redisServer';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const CELLS = arg('--cells', 8);
const STEPS = arg('--steps', 300);
const TINY_CELLS = 8;

function spec(name: string, cells: number, steps: number): SweepSpec {
  return parseSweepSpec({
    name,
    preset: 'ocr-factorized',
    grid: { seed: Array.from({ length: cells }, (_, i) => i) },
    fixed: { steps, batchSize: 64, logEvery: Math.max(1, Math.floor(steps / 5)), checkpointEvery: Math.max(1, Math.floor(steps / 5)), evalSamples: 40 },
    metrics: ['test_impl_acc'],
  });
}

async function waitFor(test: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function startWorker(url: string, queue: string, ws: string, name: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'oocr.mjs'), 'worker', '--redis', url, '--queue', queue, '--workspace', ws, '--concurrency', '1', '--name', name], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { child, ready: waitFor(() => err.includes('waiting for cells'), `worker ${name}`) };
}

async function timed(fn: () => Promise<{ completed: number; cells: number }>): Promise<number> {
  const t0 = performance.now();
  const r = await fn();
  if (r.completed !== r.cells) throw new Error(`only ${r.completed}/${r.cells} cells completed`);
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-sweep-bench-'));
  if (REDIS_UNAVAILABLE) throw new Error(REDIS_UNAVAILABLE);
  const redis = await startTestRedis();
  const workers: ChildProcess[] = [];
  try {
    const queue = 'bench';
    for (const name of ['w1', 'w2']) {
      const w = startWorker(redis.url, queue, path.join(tmp, name), name);
      workers.push(w.child);
      await w.ready;
    }
    const local = (s: SweepSpec, n: number, dir: string) => () => runSweep({ spec: s, outDir: path.join(tmp, dir), workers: n });
    const queued = (s: SweepSpec, dir: string) => () => runDistributedSweep({ spec: s, outDir: path.join(tmp, dir), redis: redis.url, queue, pollMs: 500 });

    const main = spec('bench', CELLS, STEPS);
    const t1 = await timed(local(main, 1, 'local1'));
    const t2 = await timed(local(main, 2, 'local2'));
    const tq = await timed(queued(main, 'queue2'));
    const tiny = spec('tiny', TINY_CELLS, 1);
    const o1 = await timed(local(tiny, 1, 'tiny-local'));
    const oq = await timed(queued(tiny, 'tiny-queue'));

    const perMin = (t: number): number => (CELLS / t) * 60;
    const rows: [string, number][] = [
      ['local, 1 worker thread', t1],
      ['local, 2 worker threads', t2],
      ['BullMQ, 2 oocr worker processes', tq],
    ];
    console.log(`sweep benchmark: ${CELLS} cells of ocr-factorized, ${STEPS} steps, batch 64; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}`);
    console.log('mode                               seconds  cells/min  vs local-1');
    for (const [name, t] of rows) console.log(`${name.padEnd(34)} ${t.toFixed(1).padStart(7)}  ${perMin(t).toFixed(1).padStart(9)}  ${(t1 / t).toFixed(2).padStart(9)}×`);
    const perCellLocal = (o1 / TINY_CELLS) * 1000;
    const perCellQueue = (oq / TINY_CELLS) * 1000;
    console.log(`per-cell overhead (1-step cells, one at a time): local worker thread ${perCellLocal.toFixed(0)} ms, BullMQ queue ${perCellQueue.toFixed(0)} ms; the queue adds ${(perCellQueue - perCellLocal).toFixed(0)} ms per cell`);
    console.log(
      JSON.stringify({ cells: CELLS, steps: STEPS, seconds: { local1: t1, local2: t2, bullmq2: tq }, cellsPerMinute: { local1: perMin(t1), local2: perMin(t2), bullmq2: perMin(tq) }, overheadMsPerCell: { local: perCellLocal, bullmq: perCellQueue } }),
    );
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await redis.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
