import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendInfo, BackendName } from '../../shared/backend';
import type { TrainConfig } from '../../shared/modelConfig';
import type { JobEvent } from '../../shared/progress';
import type { TrainResult } from '../train/trainRun';
import type { TrainWorkerData, TrainWorkerMessage } from './trainWorker';

export interface TrainingJobRequest {
  config: TrainConfig;
  preset: string | null;
  outDir: string;
  backend?: BackendName;
  versions?: Record<string, string>;
}

export interface TrainingJobResult extends TrainResult {
  backend: BackendInfo;
}

export class TrainingJobError extends Error {
  constructor(
    message: string,
    readonly runDir: string | null,
    readonly lastGoodCheckpoint: string | null,
  ) {
    super(message);
  }
}

export interface TrainingJob {
  readonly done: Promise<TrainingJobResult>;
  /** Asks the worker to stop after its current step; it saves the weights and ends as 'cancelled'. */
  cancel(): void;
}

/**
 * The worker entry: the bundled .js beside this module, or, when running from TypeScript sources
 * (tsx, vitest), a tiny bootstrap that registers tsx inside the worker first: Node 20 does not carry
 * the parent's loader hooks into workers, and ignores `--import` in a worker's execArgv.
 */
export function spawnWorker(data: TrainWorkerData): Worker {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const entry = new URL('./trainWorker.ts', import.meta.url).href;
    // Resolved here, from this file: an eval'd worker would resolve bare names from the cwd.
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(bootstrap, { eval: true, workerData: data });
  }
  const js = new URL('./trainWorker.js', import.meta.url);
  if (!fs.existsSync(fileURLToPath(js))) throw new Error(`training worker not found at ${fileURLToPath(js)}`);
  return new Worker(js, { workerData: data });
}

/**
 * Trains in a worker thread so the caller's thread (Electron main, CLI progress bar, server) never
 * blocks. Events stream through `onEvent`.
 */
export function startTrainingJob(req: TrainingJobRequest, onEvent: (e: JobEvent) => void = () => {}): TrainingJob {
  const cancelBuffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelBuffer);
  const worker = spawnWorker({ ...req, cancelBuffer });
  const done = new Promise<TrainingJobResult>((resolve, reject) => {
    let backend: BackendInfo | undefined;
    let settled = false;
    worker.on('message', (m: TrainWorkerMessage) => {
      switch (m.type) {
        case 'started':
          backend = m.backend;
          break;
        case 'event':
          onEvent(m.event);
          break;
        case 'done':
          settled = true;
          resolve({ ...m.result, backend: backend as BackendInfo });
          void worker.terminate();
          break;
        case 'study-done':
          settled = true;
          reject(new TrainingJobError('a study message reached a training job', null, null));
          void worker.terminate();
          break;
        case 'error':
          settled = true;
          reject(new TrainingJobError(m.message, m.runDir, m.lastGoodCheckpoint));
          void worker.terminate();
          break;
      }
    });
    worker.on('error', (err) => {
      if (!settled) reject(new TrainingJobError(`training worker crashed: ${err.message}`, null, null));
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new TrainingJobError(`training worker exited with code ${code} before finishing`, null, null));
      settled = true;
    });
  });
  return {
    done,
    cancel: () => {
      Atomics.store(flag, 0, 1);
    },
  };
}
