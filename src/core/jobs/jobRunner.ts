import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendInfo } from '../../shared/backend';
import type { JobEvent } from '../../shared/progress';
import { JobError } from './jobError';
import type { JobOutcome, JobRequest, WorkerData, WorkerMessage, WorkerRequest } from './jobProtocol';

export type { JobKind, JobOutcome, JobRequest } from './jobProtocol';

const JOB_NOUN: Record<JobRequest['kind'], string> = { train: 'training', finetune: 'fine-tuning', study: 'study', textFinetune: 'fine-tuning', textStudy: 'study', sae: 'SAE training' };

/** Receives a job's events; `stage` names the part of a study they come from. */
export type JobListener = (e: JobEvent, stage?: string) => void;

export interface Job<R> {
  /** Resolves with status 'completed' or 'cancelled'; rejects with a JobError. */
  readonly done: Promise<R>;
  /** Asks the job to stop after its current step; it saves the weights and ends 'cancelled'. */
  cancel(): void;
}

/**
 * A worker running ./jobWorker.ts: the bundled .js beside this module, or, when running from
 * TypeScript sources (tsx, vitest), a tiny bootstrap that registers tsx inside the worker first: Node
 * 20 does not carry the parent's loader hooks into workers, and ignores `--import` in a worker's
 * execArgv.
 */
export function spawnJobWorker(request: WorkerRequest, cancelBuffer = new SharedArrayBuffer(4)): Worker {
  const workerData: WorkerData = { request, cancelBuffer };
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const entry = new URL('./jobWorker.ts', import.meta.url).href;
    // Resolved here, from this file: an eval'd worker would resolve bare names from the cwd.
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(bootstrap, { eval: true, workerData });
  }
  const js = new URL('./jobWorker.js', import.meta.url);
  if (!fs.existsSync(fileURLToPath(js))) throw new Error(`job worker not found at ${fileURLToPath(js)}`);
  return new Worker(js, { workerData });
}

/**
 * Runs a training, fine-tuning or study job in a worker thread, so the caller's thread (Electron main,
 * the CLI's progress bar and Ctrl-C, the web server) never blocks. Events stream through `onEvent`.
 */
export function startJob<R extends JobRequest>(request: R, onEvent?: JobListener): Job<JobOutcome<R['kind']>>;
export function startJob(request: JobRequest, onEvent: JobListener = () => {}): Job<JobOutcome> {
  const cancelBuffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelBuffer);
  const worker = spawnJobWorker(request, cancelBuffer);
  // The worker runs this request, so its result is of this request's kind (the overload above).
  const done = new Promise<JobOutcome>((resolve, reject) => {
    let backend: BackendInfo | undefined;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'started':
          backend = m.backend;
          break;
        case 'event':
          onEvent(m.event, m.stage);
          break;
        case 'done':
          settle(() => resolve({ ...m.result, backend: backend as BackendInfo }));
          break;
        case 'error':
          settle(() => reject(new JobError(m.message, { runDir: m.runDir, lastGoodCheckpoint: m.lastGoodCheckpoint })));
          break;
      }
    });
    const what = JOB_NOUN[request.kind];
    worker.on('error', (err) => settle(() => reject(new JobError(`${what} worker crashed: ${err.message}`))));
    worker.on('exit', (code) => settle(() => reject(new JobError(`${what} worker exited with code ${code} before finishing`))));
  });
  return { done, cancel: () => Atomics.store(flag, 0, 1) };
}
