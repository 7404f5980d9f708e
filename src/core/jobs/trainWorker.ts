import { parentPort, workerData } from 'node:worker_threads';
import type { BackendName } from '../../shared/backend';
import type { TrainConfig } from '../../shared/modelConfig';
import { initBackend } from '../backend/initBackend';
import { TrainingError, trainRun } from '../train/trainRun';

/** Data a training worker starts with (structured-clone safe). */
export interface TrainWorkerData {
  config: TrainConfig;
  preset: string | null;
  outDir: string;
  backend?: BackendName;
  /** Int32Array over it: index 0 set to 1 asks the worker to stop after the current step. */
  cancelBuffer: SharedArrayBuffer;
  versions?: Record<string, string>;
}

export type TrainWorkerMessage =
  | { type: 'event'; event: import('../../shared/progress').JobEvent }
  | { type: 'started'; backend: import('../../shared/backend').BackendInfo }
  | { type: 'done'; result: import('../train/trainRun').TrainResult }
  | { type: 'error'; message: string; runDir: string | null; lastGoodCheckpoint: string | null };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('trainWorker must run in a worker thread');
  const data = workerData as TrainWorkerData;
  const cancelFlag = new Int32Array(data.cancelBuffer);
  const send = (m: TrainWorkerMessage): void => port.postMessage(m);
  try {
    const backend = await initBackend({ backend: data.backend });
    send({ type: 'started', backend });
    const result = await trainRun({
      config: data.config,
      preset: data.preset,
      outDir: data.outDir,
      backend,
      versions: data.versions,
      onEvent: (event) => send({ type: 'event', event }),
      // Atomics rather than a message: the training loop need not yield for a cancel to arrive.
      shouldCancel: () => Atomics.load(cancelFlag, 0) === 1,
    });
    send({ type: 'done', result });
  } catch (err) {
    send({
      type: 'error',
      message: err instanceof Error ? err.message : String(err),
      runDir: err instanceof TrainingError ? err.runDir : null,
      lastGoodCheckpoint: err instanceof TrainingError ? err.lastGoodCheckpoint : null,
    });
  }
}

void main();
