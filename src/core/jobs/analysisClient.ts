import type { Worker } from 'node:worker_threads';
import type { BackendName } from '../../shared/backend';
import { ApiArgumentError } from '../apiErrors';
import type { LoadProgress } from '../hf/loadHfModel';
import type { AnalysisCall, AnalysisCallRequest, AnalysisCallResult, AnalysisProgress, AnalysisReply, WorkerMessage } from './jobProtocol';
import { spawnJobWorker } from './jobRunner';

export interface AnalysisClient {
  /**
   * `onProgress` hears the weights of a model folder being read, when this request loads one whose
   * size reaches the worker's threshold (modelProgressMinBytes); all such calls come before the result.
   */
  run(r: { dir: string; adapterDir?: string; req: AnalysisCallRequest; onProgress?: (p: LoadProgress) => void }): Promise<AnalysisCallResult>;
  /** Stops the worker; pending requests fail. */
  dispose(): void;
}

/**
 * Analyses in a long-lived worker thread (the job worker, started with a request of kind 'analysis'),
 * so the thread that serves the API never blocks on tfjs. One worker, requests answered in order; a
 * crashed worker fails its pending requests and is replaced on the next call.
 */
export function createAnalysisClient(opts: { backend?: BackendName; progressMinBytes?: number } = {}): AnalysisClient {
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: AnalysisCallResult) => void; reject: (e: Error) => void; onProgress?: (p: LoadProgress) => void }>();

  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const ensure = (): Worker => {
    if (worker) return worker;
    const w = spawnJobWorker({ kind: 'analysis', backend: opts.backend, ...(opts.progressMinBytes !== undefined ? { progressMinBytes: opts.progressMinBytes } : {}) });
    w.on('message', (m: AnalysisReply | AnalysisProgress | WorkerMessage) => {
      if (!('id' in m)) {
        // The worker's own messages: 'started', or an 'error' if its backend failed to start.
        if (m.type === 'error') failAll(new Error(`analysis worker failed to start: ${m.message}`));
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      if ('progress' in m) {
        p.onProgress?.(m.progress);
        return;
      }
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if ('result' in m) p.resolve(m.result);
      else p.reject(m.argument ? new ApiArgumentError(m.error) : new Error(m.error));
    });
    const lost = (why: string): void => {
      if (worker !== w) return;
      worker = null;
      failAll(new Error(`analysis worker ${why}`));
    };
    w.on('error', (err) => lost(`crashed: ${err.message}`));
    w.on('exit', (code) => lost(`exited with code ${code}`));
    // An idle analysis worker must not keep a process alive; a busy one must (see run()).
    w.unref();
    worker = w;
    return w;
  };

  return {
    run({ dir, adapterDir, req, onProgress }) {
      const w = ensure();
      const id = nextId++;
      return new Promise<AnalysisCallResult>((resolve, reject) => {
        pending.set(id, { resolve, reject, onProgress });
        w.ref();
        w.postMessage({ id, dir, ...(adapterDir ? { adapterDir } : {}), req } satisfies AnalysisCall);
      });
    },
    dispose() {
      const w = worker;
      worker = null;
      failAll(new Error('analysis worker stopped'));
      void w?.terminate();
    },
  };
}
