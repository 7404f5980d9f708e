import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { BackendName } from '../../shared/backend';
import { ApiArgumentError } from '../apiErrors';
import type { LoadProgress } from '../hf/loadHfModel';
import type { AnalysisCall, AnalysisCallRequest, AnalysisCallResult, AnalysisProgress, AnalysisReply, WorkerMessage } from './jobProtocol';
import { spawnJobWorker } from './jobRunner';

export interface AnalysisRunOptions {
  dir: string;
  adapterDir?: string;
  req: AnalysisCallRequest;
  /**
   * Hears the weights of a model folder being read, when this request loads one whose size reaches the
   * worker's threshold (modelProgressMinBytes); all such calls come before the result.
   */
  onProgress?: (p: LoadProgress) => void;
  /** Aborting drops a waiting request, or stops the worker running it (its cached models go with it). */
  signal?: AbortSignal;
}

export interface AnalysisClient {
  run(r: AnalysisRunOptions): Promise<AnalysisCallResult>;
  /** Stops the workers; pending requests fail. */
  dispose(): void;
  /** Requests running and waiting (for tests and status). */
  stats(): { workers: number; running: number; waiting: number };
}

/** Thrown when a request is aborted or runs past the time limit: the caller's, not a server fault. */
export class AnalysisStoppedError extends ApiArgumentError {}

/** Analysis workers: OOCR_ANALYSIS_WORKERS, else one per core beyond the first, at most 4 (each caches its own models). */
export function defaultAnalysisWorkers(): number {
  const env = Number(process.env.OOCR_ANALYSIS_WORKERS);
  if (Number.isInteger(env) && env > 0) return env;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores - 1));
}

/** Seconds one analysis may take: OOCR_ANALYSIS_TIMEOUT_S, else 300. */
export function defaultAnalysisTimeoutMs(): number {
  const env = Number(process.env.OOCR_ANALYSIS_TIMEOUT_S);
  return (Number.isFinite(env) && env > 0 ? env : 300) * 1000;
}

interface Pending {
  id: number;
  opts: AnalysisRunOptions;
  resolve: (r: AnalysisCallResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker | null;
  busy: Pending | null;
  /** Model folders this worker has opened (its cache), so requests on them go back to it. */
  dirs: Set<string>;
  timer?: NodeJS.Timeout;
}

/**
 * Analyses in long-lived worker threads (the job worker, started with a request of kind 'analysis'),
 * so the thread that serves the API never blocks on tfjs. A small pool, one request per worker at a
 * time; a request goes to a free worker that already holds its model when there is one (each worker
 * caches the models it opened). A request past the time limit, or aborted while running, stops its
 * worker — tfjs cannot be interrupted mid-kernel — which is replaced on the next call; a waiting one
 * is simply dropped. A crashed worker fails its request only.
 */
export function createAnalysisClient(opts: { backend?: BackendName; progressMinBytes?: number; workers?: number; timeoutMs?: number } = {}): AnalysisClient {
  const slots: Slot[] = Array.from({ length: Math.max(1, opts.workers ?? defaultAnalysisWorkers()) }, () => ({ worker: null, busy: null, dirs: new Set<string>() }));
  const timeoutMs = opts.timeoutMs ?? defaultAnalysisTimeoutMs();
  const waiting: Pending[] = [];
  let nextId = 1;

  const spawn = (slot: Slot): Worker => {
    const w = spawnJobWorker({ kind: 'analysis', backend: opts.backend, ...(opts.progressMinBytes !== undefined ? { progressMinBytes: opts.progressMinBytes } : {}) });
    w.on('message', (m: AnalysisReply | AnalysisProgress | WorkerMessage) => {
      if (!('id' in m)) {
        // The worker's own messages: 'started', or an 'error' if its backend failed to start.
        if (m.type === 'error') finish(slot, (p) => p.reject(new Error(`analysis worker failed to start: ${m.message}`)), true);
        return;
      }
      const p = slot.busy;
      if (!p || p.id !== m.id) return;
      if ('progress' in m) {
        p.opts.onProgress?.(m.progress);
        return;
      }
      if ('result' in m) finish(slot, (q) => q.resolve(m.result));
      else finish(slot, (q) => q.reject(m.argument ? new ApiArgumentError(m.error) : new Error(m.error)));
    });
    const lost = (why: string): void => {
      if (slot.worker !== w) return;
      slot.worker = null;
      slot.dirs.clear();
      finish(slot, (p) => p.reject(new Error(`analysis worker ${why}`)));
    };
    w.on('error', (err) => lost(`crashed: ${err.message}`));
    w.on('exit', (code) => lost(`exited with code ${code}`));
    // An idle analysis worker must not keep a process alive; a busy one must.
    w.unref();
    slot.worker = w;
    return w;
  };

  /** Ends the slot's request (if any) with `settle`; `kill` stops the worker too. Then serves the next. */
  const finish = (slot: Slot, settle: (p: Pending) => void, kill = false): void => {
    const p = slot.busy;
    slot.busy = null;
    clearTimeout(slot.timer);
    if (kill && slot.worker) {
      const w = slot.worker;
      slot.worker = null;
      slot.dirs.clear();
      void w.terminate();
    } else slot.worker?.unref();
    if (p) settle(p);
    dispatch();
  };

  const start = (slot: Slot, p: Pending): void => {
    const w = slot.worker ?? spawn(slot);
    slot.busy = p;
    slot.dirs.add(p.opts.dir);
    w.ref();
    // No limit when the caller waits for its own request (the CLI: Ctrl-C stops it).
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
      slot.timer = setTimeout(
        () => finish(slot, (q) => q.reject(new AnalysisStoppedError(`the analysis took longer than ${Math.round(timeoutMs / 1000)} s and was stopped (OOCR_ANALYSIS_TIMEOUT_S raises the limit)`)), true),
        timeoutMs,
      );
    }
    w.postMessage({ id: p.id, dir: p.opts.dir, ...(p.opts.adapterDir ? { adapterDir: p.opts.adapterDir } : {}), req: p.opts.req } satisfies AnalysisCall);
  };

  const dispatch = (): void => {
    for (let i = 0; i < waiting.length; ) {
      const p = waiting[i];
      const free = slots.filter((s) => !s.busy);
      if (!free.length) return;
      const slot = free.find((s) => s.dirs.has(p.opts.dir)) ?? free.find((s) => s.worker === null || s.dirs.size === 0) ?? free[0];
      waiting.splice(i, 1);
      start(slot, p);
    }
  };

  return {
    run(r) {
      return new Promise<AnalysisCallResult>((resolve, reject) => {
        if (r.signal?.aborted) return reject(new AnalysisStoppedError('analysis cancelled'));
        const p: Pending = { id: nextId++, opts: r, resolve, reject };
        r.signal?.addEventListener(
          'abort',
          () => {
            const i = waiting.indexOf(p);
            if (i >= 0) {
              waiting.splice(i, 1);
              reject(new AnalysisStoppedError('analysis cancelled'));
              return;
            }
            const slot = slots.find((s) => s.busy === p);
            if (slot) finish(slot, (q) => q.reject(new AnalysisStoppedError('analysis cancelled')), true);
          },
          { once: true },
        );
        waiting.push(p);
        dispatch();
      });
    },
    dispose() {
      for (const p of waiting.splice(0)) p.reject(new Error('analysis worker stopped'));
      for (const slot of slots) {
        const w = slot.worker;
        slot.worker = null;
        const p = slot.busy;
        slot.busy = null;
        clearTimeout(slot.timer);
        p?.reject(new Error('analysis worker stopped'));
        void w?.terminate();
      }
    },
    stats: () => ({ workers: slots.filter((s) => s.worker).length, running: slots.filter((s) => s.busy).length, waiting: waiting.length }),
  };
}
