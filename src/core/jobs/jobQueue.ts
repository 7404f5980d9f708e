import os from 'node:os';
import { ApiArgumentError } from '../apiErrors';

/** A job as the queue sees it: something that starts, can be cancelled, and ends. */
export interface Startable<R> {
  done: Promise<R>;
  cancel(): void;
}

export type QueuedJobState = 'queued' | 'running';

export interface QueuedJobInfo {
  jobId: string;
  /** The run (or study) folder the job writes, relative to the workspace. */
  runId: string;
  kind: string;
  state: QueuedJobState;
  queuedAt: string;
  startedAt?: string;
  /** 1-based place in the queue while queued. */
  position?: number;
}

export interface QueueHandle<R> {
  jobId: string;
  /** Resolves when the job ends; a job cancelled while still queued resolves with `cancelledResult`. */
  done: Promise<R>;
  cancel(): void;
}

export interface JobQueue {
  /**
   * Queues a job; `start` runs when a slot is free. Refuses a second job for the same run folder while
   * one is queued or running, and a job beyond `maxQueued` waiting ones.
   */
  submit<R>(o: { jobId: string; runId: string; kind: string; start: () => Startable<R>; cancelledResult: () => R; onStart?: () => void }): QueueHandle<R>;
  list(): QueuedJobInfo[];
  cancel(jobId: string): boolean;
  /** Cancels everything; resolves when the running jobs have ended or `timeoutMs` has passed. */
  drain(timeoutMs: number): Promise<void>;
  readonly concurrency: number;
}

/**
 * Jobs that may run at once: OOCR_MAX_JOBS, else one per core up to one per 2 GiB of memory (a
 * training or fine-tuning worker holds a backend and its tensors: ~0.1 GB for the toy presets, far more
 * for a real model), at least one.
 */
export function defaultConcurrency(): number {
  const env = Number(process.env.OOCR_MAX_JOBS);
  if (Number.isInteger(env) && env > 0) return env;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, Math.floor(os.totalmem() / 2 ** 31)));
}

/** A bounded FIFO of jobs with at most `concurrency` running, one per run folder. */
export function createJobQueue(opts: { concurrency?: number; maxQueued?: number; onChange?: () => void } = {}): JobQueue {
  const concurrency = Math.max(1, opts.concurrency ?? defaultConcurrency());
  const maxQueued = opts.maxQueued ?? 64;
  interface Entry {
    info: QueuedJobInfo;
    start: () => Startable<unknown>;
    cancelled: () => unknown;
    onStart?: () => void;
    job?: Startable<unknown>;
    settle: { resolve: (r: unknown) => void; reject: (e: unknown) => void };
  }
  const queued: Entry[] = [];
  const running = new Map<string, Entry>();
  const changed = (): void => opts.onChange?.();

  const pump = (): void => {
    while (running.size < concurrency && queued.length) {
      const e = queued.shift() as Entry;
      e.info.state = 'running';
      e.info.startedAt = new Date().toISOString();
      delete e.info.position;
      running.set(e.info.jobId, e);
      try {
        e.onStart?.();
        e.job = e.start();
      } catch (err) {
        running.delete(e.info.jobId);
        e.settle.reject(err);
        continue;
      }
      e.job.done.then(e.settle.resolve, e.settle.reject).finally(() => {
        running.delete(e.info.jobId);
        pump();
        changed();
      });
    }
    queued.forEach((e, i) => (e.info.position = i + 1));
  };

  const queue: JobQueue = {
    concurrency,
    submit<R>(o: { jobId: string; runId: string; kind: string; start: () => Startable<R>; cancelledResult: () => R; onStart?: () => void }): QueueHandle<R> {
      const busy = [...running.values(), ...queued].find((e) => e.info.runId === o.runId);
      if (busy) throw new ApiArgumentError(`'${o.runId}' already has a ${busy.info.state} job (${busy.info.kind}); cancel it or choose another name`);
      if (queued.length >= maxQueued) throw new ApiArgumentError(`the job queue is full (${maxQueued} waiting, ${running.size} running); try again when some have finished`);
      let settle!: Entry['settle'];
      const done = new Promise<R>((resolve, reject) => (settle = { resolve: resolve as (r: unknown) => void, reject }));
      const entry: Entry = {
        info: { jobId: o.jobId, runId: o.runId, kind: o.kind, state: 'queued', queuedAt: new Date().toISOString() },
        start: o.start,
        cancelled: o.cancelledResult,
        onStart: o.onStart,
        settle,
      };
      queued.push(entry);
      pump();
      changed();
      return { jobId: o.jobId, done, cancel: () => void queue.cancel(o.jobId) };
    },
    list: () => [...running.values(), ...queued].map((e) => ({ ...e.info })),
    cancel(jobId) {
      const r = running.get(jobId);
      if (r) {
        r.job?.cancel();
        return true;
      }
      const i = queued.findIndex((e) => e.info.jobId === jobId);
      if (i < 0) return false;
      const [e] = queued.splice(i, 1);
      e.settle.resolve(e.cancelled());
      pump();
      changed();
      return true;
    },
    async drain(timeoutMs) {
      for (const e of queued.splice(0)) e.settle.resolve(e.cancelled());
      const ends = [...running.values()].map((e) => {
        e.job?.cancel();
        return e.job?.done.catch(() => undefined);
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(ends), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    },
  };
  return queue;
}
