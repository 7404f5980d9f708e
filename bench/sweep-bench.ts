// Sweep throughput: `npm run bench:sweeps [-- --cells N --steps S]`.
//
// The same sweep (ocr-factorized, N seeds, S steps each) three ways in one run, each as a user runs it
// (`oocr sweep` through bin/oocr.mjs, the bundled CLI where it is built): 1 and 2 local worker threads
// (`--workers`), and 2 `oocr worker` processes on a BullMQ queue on a real redis-server started here on
// a free loopback port (`--redis`). Prints cells per minute and ratios against the 1-worker local run,
// then the overhead a cell pays for the queue: the same sweep of 1-step cells through one local worker
// thread and through one queue worker, per cell. Worker processes are started (and their Redis
// connection made) before the clock starts, as they would be on real machines. Not a unit test:
// timings depend on the machine and its load.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** Seconds `oocr sweep ARGS --json` takes, checking every cell completed. */
function timedSweep(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'oocr.mjs'), 'sweep', ...args, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      try {
        const r = JSON.parse(out.trim().split('\n').pop() ?? '') as { completed: number; cells: number };
        if (code === 0 && r.completed === r.cells) return resolve(seconds);
      } catch {
        // reported below
      }
      reject(new Error(`oocr sweep ${args.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}`));
    });
  });
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
    const specFile = (s: SweepSpec): string => {
      const f = path.join(tmp, `${s.name}.json`);
      fs.writeFileSync(f, JSON.stringify(s));
      return f;
    };
    const local = (f: string, n: number, dir: string): Promise<number> => timedSweep(['--spec', f, '--out', path.join(tmp, dir), '--workers', String(n)]);
    const queued = (f: string, dir: string): Promise<number> => timedSweep(['--spec', f, '--out', path.join(tmp, dir), '--redis', redis.url, '--queue', queue]);

    const main = specFile(spec('bench', CELLS, STEPS));
    const t1 = await local(main, 1, 'local1');
    const t2 = await local(main, 2, 'local2');
    const tq = await queued(main, 'queue2');
    // Per-cell overhead: one cell at a time both ways (a second queue worker would take cells in parallel).
    workers[1].kill('SIGTERM');
    const tiny = specFile(spec('tiny', TINY_CELLS, 1));
    const o1 = await local(tiny, 1, 'tiny-local');
    const oq = await queued(tiny, 'tiny-queue');

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
    console.log(`per-cell cost (${TINY_CELLS} 1-step cells, one at a time, whole command): local worker thread ${perCellLocal.toFixed(0)} ms, BullMQ queue ${perCellQueue.toFixed(0)} ms (the queue ${perCellQueue >= perCellLocal ? 'adds' : 'saves'} ${Math.abs(perCellQueue - perCellLocal).toFixed(0)} ms a cell: a queue worker's process is already warm, a local cell starts a thread)`);
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
