import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendName } from '../../shared/backend';
import { readManifest, RUN_FILE } from '../io/runStore';
import { startJob } from '../jobs/jobRunner';
import {
  CellFiles,
  checkCellJob,
  cancelKey,
  connectRedis,
  connectionOptions,
  DEFAULT_QUEUE,
  filesKey,
  LostOwnershipError,
  parseRedisUrl,
  type CellJobData,
  type CellJobResult,
  type CellProgress,
} from './redisCells';
import { isConsistentSnapshot, readRunSnapshot, writeRunSnapshot } from './runSnapshot';

/**
 * `oocr worker`: takes sweep cells from the BullMQ queue, trains each in a worker thread in a local
 * scratch folder, and keeps the cell's run folder in Redis up to date at every checkpoint. A cell
 * whose worker died (kill -9, a lost machine) is handed to another worker by BullMQ's stalled-job
 * check; that worker restores the folder and continues with the ordinary resume, so the cell ends
 * bit for bit as if it had never stopped.
 */

export interface SweepWorkerOptions {
  redis: string;
  /** Scratch folder for the cells this worker trains (DIR/cells/<sweep>/<cell>). */
  workspace: string;
  queue?: string;
  /** Cells trained at once (each in its own thread). */
  concurrency?: number;
  backend?: BackendName;
  /**
   * How long a cell stays claimed without a heartbeat, in ms: a dead worker's cell is retried after
   * about this long. BullMQ's default is 30 s; tests use less.
   */
  lockMs?: number;
  /** Shown in sweep.json and progress: host:pid by default. */
  name?: string;
  onEvent?: (e: SweepWorkerEvent) => void;
}

export type SweepWorkerEvent =
  | { kind: 'ready'; worker: string; queue: string }
  | { kind: 'start'; sweep: string; cell: string; resumeFrom: number | null }
  | { kind: 'progress'; sweep: string; cell: string; step: number; totalSteps: number }
  | { kind: 'done'; sweep: string; cell: string; status: string; error?: string };

export interface SweepWorker {
  worker: string;
  /** Stops taking cells; running ones are cancelled at their next step, uploaded, and put back on the queue. */
  close: () => Promise<void>;
  /** Resolves when the worker has closed. */
  closed: Promise<void>;
}

const UPLOAD_MIN_INTERVAL_MS = 250;
const CANCEL_POLL_MS = 500;

export async function startSweepWorker(opts: SweepWorkerOptions): Promise<SweepWorker> {
  const target = parseRedisUrl(opts.redis);
  const queue = opts.queue ?? DEFAULT_QUEUE;
  const me = opts.name ?? `${os.hostname()}:${process.pid}`;
  const emit = (e: SweepWorkerEvent): void => opts.onEvent?.(e);
  const redis = await connectRedis(target);
  const lockMs = opts.lockMs ?? 30_000;
  let stopping = false;
  const running = new Set<() => void>();

  const processor = async (job: Job<CellJobData, CellJobResult>, token?: string): Promise<CellJobResult> => {
    let data: CellJobData;
    try {
      data = checkCellJob(job.data);
    } catch (err) {
      throw new UnrecoverableError(`job ${job.id} refused: ${(err as Error).message}; is another program using queue '${queue}'?`);
    }
    const jobId = String(job.id);
    const runDir = path.join(path.resolve(opts.workspace), 'cells', data.sweepId, data.cellId);
    // The attempt's token: an earlier holder of this cell whose lock expired can no longer write it.
    const files = new CellFiles(redis, filesKey(queue, jobId), `${me}/${token ?? job.attemptsStarted}`);
    const stored = await files.claim();
    fs.rmSync(runDir, { recursive: true, force: true });
    if (stored.size) writeRunSnapshot(runDir, stored);
    else fs.mkdirSync(path.dirname(runDir), { recursive: true });

    const hasRun = fs.existsSync(path.join(runDir, RUN_FILE));
    const before = hasRun ? readManifest(runDir) : null;
    const progress = (p: Omit<CellProgress, 'worker'>): Promise<void> => job.updateProgress({ worker: me, ...p } satisfies CellProgress).catch(() => {});
    if (before?.status === 'completed') {
      // Trained and uploaded by an earlier attempt that died before the queue heard of it.
      emit({ kind: 'done', sweep: data.sweepName, cell: data.cellId, status: 'completed' });
      fs.rmSync(runDir, { recursive: true, force: true });
      return { status: 'completed', finalMetrics: before.finalMetrics, steps: before.step, worker: me };
    }
    emit({ kind: 'start', sweep: data.sweepName, cell: data.cellId, resumeFrom: hasRun ? (before?.step ?? 0) : null });
    await progress({ step: before?.step ?? 0, totalSteps: data.config.steps });

    let cancelledBySweep = false;
    const handle = startJob(
      { kind: 'train', backend: opts.backend, train: { config: data.config, preset: data.preset, outDir: runDir, ...(data.versions ? { versions: data.versions } : {}), ...(hasRun ? { resume: true } : {}) } },
      (event) => {
        if (event.kind === 'checkpoint') scheduleUpload();
        else if (event.kind === 'progress') {
          const now = Date.now();
          if (now - lastProgress > 250 || event.step === event.totalSteps) {
            lastProgress = now;
            void progress({ step: event.step, totalSteps: event.totalSteps, loss: event.loss });
            emit({ kind: 'progress', sweep: data.sweepName, cell: data.cellId, step: event.step, totalSteps: event.totalSteps });
          }
        }
      },
    );
    let lastProgress = 0;
    const cancel = (): void => handle.cancel();
    running.add(cancel);

    // Uploads are serialized and coalesced: at most one in flight, the newest state wins; one that waits
    // out the interval is dropped when the job ends (the final upload below supersedes it).
    let uploading: Promise<void> = Promise.resolve();
    let pending = false;
    let lastUpload = 0;
    let skipWaiting: (() => void) | null = null;
    let ending = false;
    // Declared wide: it is set from the upload callback, which control-flow narrowing does not see.
    let lost = null as Error | null;
    const uploadNow = async (): Promise<void> => {
      const snap = readRunSnapshot(runDir);
      if (!isConsistentSnapshot(snap)) return;
      try {
        await files.upload(snap);
        lastUpload = Date.now();
      } catch (err) {
        if (err instanceof LostOwnershipError) {
          lost = err;
          handle.cancel();
        }
        // A failed upload is retried at the next checkpoint; the final upload below must succeed.
      }
    };
    function scheduleUpload(): void {
      if (pending) return;
      pending = true;
      const wait = Math.max(0, UPLOAD_MIN_INTERVAL_MS - (Date.now() - lastUpload));
      uploading = uploading.then(
        () =>
          new Promise<void>((resolve) => {
            if (ending) {
              pending = false;
              resolve();
              return;
            }
            const timer = setTimeout(() => {
              skipWaiting = null;
              pending = false;
              uploadNow().finally(resolve);
            }, wait);
            skipWaiting = () => {
              clearTimeout(timer);
              skipWaiting = null;
              pending = false;
              resolve();
            };
          }),
      );
    }
    /** Waits for an upload in flight, dropping one that is only waiting for its turn. */
    const settleUploads = async (): Promise<void> => {
      ending = true;
      skipWaiting?.();
      await uploading;
    };
    const poll = setInterval(() => {
      redis.exists(cancelKey(queue, data.sweepId)).then(
        (n) => {
          if (n) {
            cancelledBySweep = true;
            handle.cancel();
          }
        },
        () => {},
      );
    }, CANCEL_POLL_MS);

    try {
      let outcome;
      try {
        outcome = await handle.done;
      } catch (err) {
        await settleUploads();
        await uploadNow();
        const message = err instanceof Error ? err.message : String(err);
        emit({ kind: 'done', sweep: data.sweepName, cell: data.cellId, status: 'failed', error: message });
        // Training errors (a bad config, a NaN loss) are the same on any machine: no retry.
        throw new UnrecoverableError(message);
      }
      await settleUploads();
      if (lost) throw lost;
      const final = readRunSnapshot(runDir);
      await files.upload(final);
      if (outcome.status === 'cancelled' && !cancelledBySweep) {
        // Stopped because this worker is shutting down: back on the queue for another worker.
        emit({ kind: 'done', sweep: data.sweepName, cell: data.cellId, status: 'requeued' });
        await job.moveToWait(token);
        throw new WaitingError();
      }
      emit({ kind: 'done', sweep: data.sweepName, cell: data.cellId, status: outcome.status });
      return { status: outcome.status, finalMetrics: outcome.finalMetrics, steps: outcome.steps, worker: me };
    } finally {
      clearInterval(poll);
      running.delete(cancel);
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  };

  const worker = new Worker<CellJobData, CellJobResult>(queue, processor, {
    connection: connectionOptions(target),
    concurrency: opts.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
    // A cell may outlive several dead workers; each retry continues from its last checkpoint.
    maxStalledCount: 10,
    autorun: false,
  });
  // Connection trouble is retried by ioredis; say so once per distinct message instead of per retry.
  let lastError = '';
  const onError = (err: Error): void => {
    if (stopping || err.message === lastError) return;
    lastError = err.message;
    process.stderr.write(`oocr worker: ${err.message}\n`);
  };
  worker.on('error', onError);
  redis.on('error', onError);
  await worker.waitUntilReady();
  const closed = worker.run().then(
    () => {},
    (err: Error) => {
      if (!stopping) throw err;
    },
  );
  emit({ kind: 'ready', worker: me, queue });

  const close = async (): Promise<void> => {
    if (stopping) return closed;
    stopping = true;
    for (const c of running) c();
    await worker.close();
    await closed;
    redis.disconnect();
  };
  return { worker: me, close, closed };
}
