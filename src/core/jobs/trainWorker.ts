import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { AnalysisRequest, AnalysisResult } from '../../shared/api';
import { ApiArgumentError } from '../apiErrors';
import { analyzeRequest } from '../runs/analyzeRequest';
import type { BackendName } from '../../shared/backend';
import type { TrainConfig } from '../../shared/modelConfig';
import { initBackend } from '../backend/initBackend';
import { loraVsSteering, StudyCancelledError } from '../finetune/loraVsSteering';
import { TrainingError, trainRun } from '../train/trainRun';
import type { BackendInfo } from '../../shared/backend';

/** A LoRA-vs-steering study (src/core/finetune/loraVsSteering.ts) run by the same worker. */
export interface StudyWorkerRequest {
  base: string;
  kind: 'locations' | 'backdoor';
  seed: number;
  loraSteps?: number;
  steerSteps?: number;
}

/** Answers of a worker in 'analysis' mode, matched to requests by id. */
export type AnalysisReply = { id: number; result: AnalysisResult } | { id: number; error: string; argument: boolean };

/** Data a training worker starts with (structured-clone safe). */
export interface TrainWorkerData {
  /** 'analysis': stay alive and answer `{ id, dir, req }` analysis requests instead of training. */
  mode?: 'analysis';
  /** When set, the worker runs this study instead of training `config`. */
  study?: StudyWorkerRequest;
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
  | { type: 'study-done'; status: 'completed' | 'cancelled'; runDir: string }
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
    if (data.mode === 'analysis') {
      serveAnalyses(port);
      return;
    }
    if (data.study) {
      await runStudy(data, backend, send, () => Atomics.load(cancelFlag, 0) === 1);
      return;
    }
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

function serveAnalyses(port: MessagePort): void {
  // Requests arrive in order and each runs to completion synchronously, so answers keep that order.
  port.on('message', (m: { id: number; dir: string; req: AnalysisRequest }) => {
    try {
      port.postMessage({ id: m.id, result: analyzeRequest(m.dir, m.req) } satisfies AnalysisReply);
    } catch (err) {
      port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err), argument: err instanceof ApiArgumentError } satisfies AnalysisReply);
    }
  });
}

async function runStudy(data: TrainWorkerData, backend: BackendInfo, send: (m: TrainWorkerMessage) => void, shouldCancel: () => boolean): Promise<void> {
  const study = data.study as StudyWorkerRequest;
  let current = '';
  try {
    await loraVsSteering({
      ...study,
      outDir: data.outDir,
      backend,
      shouldCancel,
      onEvent: (stage, event) => {
        if (stage !== current) {
          current = stage;
          send({ type: 'event', event: { kind: 'log', message: `stage: ${stage}` } });
        }
        send({ type: 'event', event });
      },
    });
    send({ type: 'study-done', status: 'completed', runDir: data.outDir });
  } catch (err) {
    if (err instanceof StudyCancelledError) send({ type: 'study-done', status: 'cancelled', runDir: data.outDir });
    else throw err;
  }
}

void main();
