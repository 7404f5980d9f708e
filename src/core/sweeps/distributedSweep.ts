import { Queue, QueueEvents, type Job } from 'bullmq';
import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { readManifest, RUN_FILE } from '../io/runStore';
import {
  CELL_JOB_FORMAT,
  CellFiles,
  cancelKey,
  cellJobId,
  connectRedis,
  connectionOptions,
  DEFAULT_QUEUE,
  filesKey,
  parseRedisUrl,
  readCellFiles,
  type CellJobData,
  type CellJobResult,
  type CellProgress,
} from './redisCells';
import { isConsistentSnapshot, readRunSnapshot, writeRunSnapshot } from './runSnapshot';
import { openSweep, pickMetrics, summarize, type RunSweepOptions, type SweepCellRecord, type SweepSummary } from './runSweep';

/**
 * `oocr sweep --redis URL`: the coordinator of a distributed sweep. It puts every cell left to run on
 * the BullMQ queue (job id = sweep id + cell id, so a restarted coordinator finds its jobs again and a
 * cell is never queued twice), follows the workers' progress, and writes each finished cell's run
 * folder, which travels back through Redis, into DIR/runs/<cell>. Killing and re-running the
 * coordinator on the same DIR resumes: finished cells are collected or skipped, never re-run.
 */

export interface DistributedSweepOptions extends Omit<RunSweepOptions, 'workers' | 'backend'> {
  redis: string;
  queue?: string;
  /** How often outstanding jobs are checked directly, in case an event was missed (ms). */
  pollMs?: number;
}

type CellJob = Job<CellJobData, CellJobResult, string>;
type Outcome = { kind: 'completed'; job: CellJob } | { kind: 'failed'; job: CellJob; reason: string };

export async function runDistributedSweep(opts: DistributedSweepOptions): Promise<SweepSummary> {
  const { spec } = opts;
  const target = parseRedisUrl(opts.redis);
  const queueName = opts.queue ?? DEFAULT_QUEUE;
  const open = openSweep(spec, opts.outDir, { allowLarge: opts.allowLarge });
  const { dir, byId, record, cells, todo, save } = open;
  // openSweep has saved sweep.json with this id before any job carries it.
  const sweepId = record.id as string;
  const emit = opts.onEvent ?? (() => {});
  const total = cells.length;
  let done = open.skipped;
  if (todo.length === 0) return summarize(open);

  const redis: Redis = await connectRedis(target);
  const queue = new Queue<CellJobData, CellJobResult, string>(queueName, { connection: connectionOptions(target) });
  const events = new QueueEvents(queueName, { connection: connectionOptions(target) });
  // A dropped connection is retried by ioredis; meanwhile say so once instead of crashing (an 'error'
  // event without a listener would throw), and the direct polls below catch up once it is back.
  let lastError = '';
  const onError = (err: Error): void => {
    if (err.message === lastError) return;
    lastError = err.message;
    process.stderr.write(`oocr sweep: Redis: ${err.message} (retrying)\n`);
  };
  queue.on('error', onError);
  events.on('error', onError);
  redis.on('error', onError);
  const cellOf = new Map<string, SweepCellRecord>();
  const outstanding = new Set<string>();
  let finish: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const handled = new Set<string>();

  const cellEvent = (rec: SweepCellRecord): void => {
    emit({ kind: 'cell', cell: rec.id, status: rec.status, done, total, ...(rec.error ? { error: rec.error } : {}), ...(rec.worker ? { worker: rec.worker } : {}) });
  };
  const settle = (jobId: string): void => {
    outstanding.delete(jobId);
    if (outstanding.size === 0) finish();
  };

  /** Writes a finished (or failed) cell's files into the sweep folder and forgets the job. */
  const collect = async (o: Outcome): Promise<void> => {
    const jobId = String(o.job.id);
    if (handled.has(jobId)) return;
    handled.add(jobId);
    const rec = cellOf.get(jobId) as SweepCellRecord;
    const runDir = path.join(dir, rec.run);
    const key = filesKey(queueName, jobId);
    try {
      const files = await readCellFiles(redis, key);
      if (files.size) writeRunSnapshot(runDir, files);
      if (o.kind === 'completed') {
        const rv = o.job.returnvalue;
        rec.worker = rv.worker;
        if (rv.status === 'completed') {
          if (!fs.existsSync(path.join(runDir, RUN_FILE))) throw new Error(`worker ${rv.worker} reported cell ${rec.id} completed but its run files did not arrive`);
          rec.status = 'completed';
          rec.metrics = pickMetrics(spec, readManifest(runDir).finalMetrics ?? rv.finalMetrics);
          delete rec.error;
          done += 1;
        } else {
          rec.status = 'cancelled';
        }
      } else {
        rec.status = 'failed';
        rec.error = o.reason;
      }
      await o.job.remove().catch(() => {});
      await redis.del(key);
    } catch (err) {
      rec.status = 'failed';
      rec.error = `collecting the cell's results: ${(err as Error).message}`;
    }
    save();
    cellEvent(rec);
    settle(jobId);
  };

  /**
   * Puts a cell on the queue. A cell whose folder here holds a stopped run continues from it: that
   * folder is uploaded first (unless Redis already holds a newer one).
   */
  const enqueue = async (cell: (typeof cells)[number]): Promise<void> => {
    const rec = byId.get(cell.id) as SweepCellRecord;
    const jobId = cellJobId(sweepId, cell.id);
    const key = filesKey(queueName, jobId);
    const runDir = path.join(dir, rec.run);
    if (fs.existsSync(path.join(runDir, RUN_FILE)) && (await redis.exists(key)) === 0) {
      const snap = readRunSnapshot(runDir);
      if (isConsistentSnapshot(snap)) {
        const files = new CellFiles(redis, key, 'coordinator');
        await files.claim();
        await files.upload(snap);
      }
    }
    const data: CellJobData = { format: CELL_JOB_FORMAT, sweepId, sweepName: spec.name, cellId: cell.id, preset: cell.preset, config: cell.config, ...(opts.versions ? { versions: opts.versions } : {}) };
    await queue.add(cell.id, data, { jobId, attempts: 3, removeOnComplete: false, removeOnFail: false });
  };
  const cellById = new Map(cells.map((c) => [c.id, c]));

  const onState = async (jobId: string): Promise<void> => {
    if (!outstanding.has(jobId) || handled.has(jobId)) return;
    const job = await queue.getJob(jobId);
    if (!job) {
      // The queue lost it (Redis restarted without persistence, or someone removed it): queue it again.
      const rec = cellOf.get(jobId);
      const cell = rec && cellById.get(rec.id);
      if (cell && !cancelled) {
        process.stderr.write(`oocr sweep: cell ${cell.id} is no longer on the queue; queueing it again\n`);
        await enqueue(cell);
      }
      return;
    }
    const state = await job.getState();
    if (state === 'completed') await collect({ kind: 'completed', job });
    else if (state === 'failed') await collect({ kind: 'failed', job, reason: job.failedReason || 'failed' });
  };

  const check = (jobId: string): void => void onState(jobId).catch(onError);
  events.on('completed', ({ jobId }) => check(jobId));
  events.on('failed', ({ jobId }) => check(jobId));
  events.on('active', ({ jobId }) => {
    const rec = cellOf.get(jobId);
    if (rec && outstanding.has(jobId) && rec.status !== 'running') {
      rec.status = 'running';
      delete rec.error;
      save();
      cellEvent(rec);
    }
  });
  events.on('progress', ({ jobId, data }) => {
    const rec = cellOf.get(jobId);
    if (!rec || !outstanding.has(jobId) || typeof data !== 'object' || data === null) return;
    const p = data as CellProgress;
    if (p.worker && rec.worker !== p.worker) {
      rec.worker = p.worker;
      rec.status = 'running';
      save();
      cellEvent(rec);
    }
    emit({ kind: 'job', cell: rec.id, worker: p.worker, event: { kind: 'progress', step: p.step, totalSteps: p.totalSteps, loss: p.loss ?? Number.NaN, stepsPerSecond: 0, etaSeconds: 0 } });
  });

  let cancelled = false;
  const cancelSweep = async (): Promise<void> => {
    if (cancelled) return;
    cancelled = true;
    // Running cells see the flag within a second, stop after their step and come back as cancelled.
    await redis.set(cancelKey(queueName, sweepId), '1', 'EX', 86_400);
    for (const jobId of [...outstanding]) {
      const job = await queue.getJob(jobId);
      const state = job ? await job.getState() : 'unknown';
      if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) {
        await job.remove().catch(() => {});
        await redis.del(filesKey(queueName, jobId));
        cellEvent(cellOf.get(jobId) as SweepCellRecord);
        settle(jobId);
      }
    }
  };

  try {
    await events.waitUntilReady();
    await redis.del(cancelKey(queueName, sweepId));
    for (const { cell } of todo) {
      const rec = byId.get(cell.id) as SweepCellRecord;
      const jobId = cellJobId(sweepId, cell.id);
      cellOf.set(jobId, rec);
      outstanding.add(jobId);
    }
    for (const { cell } of todo) {
      const jobId = cellJobId(sweepId, cell.id);
      const existing = await queue.getJob(jobId);
      if (existing) {
        const state = await existing.getState();
        if (state === 'completed' || state === 'failed') {
          // Finished while no coordinator was listening: collect it now. A failed one is retried below.
          await onState(jobId);
          if (state === 'completed') continue;
          handled.delete(jobId);
          outstanding.add(jobId);
        } else {
          continue; // waiting or running on a worker: follow it
        }
      }
      await enqueue(cell);
    }
    // Cancel is polled often; outstanding jobs are also checked directly every pollMs, in case an
    // event was missed (e.g. a job finished between the first look and the listener being ready).
    const pollMs = opts.pollMs ?? 2000;
    let sinceCheck = 0;
    const cancelTick = setInterval(() => {
      sinceCheck += 200;
      if (opts.shouldCancel?.()) void cancelSweep().catch(onError);
      if (sinceCheck >= pollMs) {
        sinceCheck = 0;
        for (const jobId of [...outstanding]) check(jobId);
      }
    }, 200);
    for (const jobId of [...outstanding]) await onState(jobId);
    if (outstanding.size === 0) finish();
    try {
      await allDone;
    } finally {
      clearInterval(cancelTick);
    }
  } finally {
    await events.close().catch(() => {});
    await queue.close().catch(() => {});
    redis.disconnect();
  }
  return summarize(open);
}
