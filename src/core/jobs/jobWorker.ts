import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { BackendInfo } from '../../shared/backend';
import type { JobEvent } from '../../shared/progress';
import { ApiArgumentError } from '../apiErrors';
import { initBackend } from '../backend/initBackend';
import { runLoraVsSteering } from '../finetune/loraVsSteering';
import { runFinetune } from '../finetune/runFinetune';
import { runTextFinetune } from '../finetune/textFinetune';
import { runTextStudy } from '../finetune/textStudy';
import { fusedRefusal } from '../fused/fusedTrainer';
import { analyzeRequest } from '../runs/analyzeRequest';
import { runSaeJob } from '../sae/runSae';
import { trainRun } from '../train/trainRun';
import { JobError } from './jobError';
import { modelProgressMinBytes, type AnalysisCall, type AnalysisProgress, type AnalysisReply, type JobRequest, type JobResults, type WorkerData, type WorkerMessage } from './jobProtocol';

/**
 * The worker_threads entry for every long job (bundled as out/main/jobWorker.js, see
 * electron.vite.config.ts): it starts a backend, then runs the one job its request names and
 * reports events, the result or a JobError's fields; or, for kind 'analysis', stays alive and answers
 * analysis calls.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('jobWorker must run in a worker thread');
  const { request, cancelBuffer } = workerData as WorkerData;
  const cancelFlag = new Int32Array(cancelBuffer);
  const send = (m: WorkerMessage): void => port.postMessage(m);
  try {
    // Training reads tensors only asynchronously, so it may run on WebGPU; every other job reads
    // synchronously and stays off it (src/core/backend/webgpu.ts). A model the fused wasm kernel
    // covers (the factorization presets, ~0.4 ms a step) stays on wasm unless WebGPU is forced.
    const asyncReads = request.kind === 'train' && (request.backend === 'webgpu' || fusedRefusal(request.train.config, 'wasm', request.train.fused) !== null);
    const backend = await initBackend({ backend: request.backend, asyncReads });
    send({ type: 'started', backend });
    if (request.kind === 'analysis') {
      serveAnalyses(port, modelProgressMinBytes(request.progressMinBytes));
      return;
    }
    // Atomics rather than a message: the training loop need not yield for a cancel to arrive.
    const shouldCancel = (): boolean => Atomics.load(cancelFlag, 0) === 1;
    send({ type: 'done', result: await runJob(request, backend, send, shouldCancel) });
  } catch (err) {
    send({
      type: 'error',
      message: err instanceof Error ? err.message : String(err),
      runDir: err instanceof JobError ? err.runDir : null,
      lastGoodCheckpoint: err instanceof JobError ? err.lastGoodCheckpoint : null,
    });
  }
}

function runJob(request: JobRequest, backend: BackendInfo, send: (m: WorkerMessage) => void, shouldCancel: () => boolean): Promise<JobResults[JobRequest['kind']]> {
  const onEvent = (event: JobEvent): void => send({ type: 'event', event });
  switch (request.kind) {
    case 'train':
      return trainRun({ ...request.train, backend, onEvent, shouldCancel });
    case 'finetune':
      return runFinetune({ ...request.finetune, backend, onEvent, shouldCancel });
    case 'textFinetune':
      return runTextFinetune({ ...request.textFinetune, backend, onEvent, shouldCancel });
    case 'study':
      return runLoraVsSteering({ ...request.study, backend, shouldCancel, onEvent: stageEvents(send) });
    case 'textStudy':
      return runTextStudy({ ...request.textStudy, backend, shouldCancel, onEvent: stageEvents(send) });
    case 'sae':
      return runSaeJob({ ...request.sae, onEvent, shouldCancel });
  }
}

/** A study's events, each tagged with its stage, and a log line when a stage starts. */
function stageEvents(send: (m: WorkerMessage) => void): (stage: string, event: JobEvent) => void {
  let current = '';
  return (stage, event) => {
    if (stage !== current) {
      current = stage;
      send({ type: 'event', event: { kind: 'log', message: `stage: ${stage}` }, stage });
    }
    send({ type: 'event', event, stage });
  }
}

function serveAnalyses(port: MessagePort, progressMinBytes: number): void {
  // Requests arrive in order and each runs to completion synchronously, so answers keep that order.
  // Model folders stay loaded between requests (src/core/analyses/modelCache.ts); loading a big one
  // reports its progress to the request being served, ahead of the reply.
  port.on('message', (m: AnalysisCall) => {
    const load = {
      onProgress: (progress: AnalysisProgress['progress']): void => {
        if (progress.totalBytes >= progressMinBytes) port.postMessage({ id: m.id, progress } satisfies AnalysisProgress);
      },
    };
    try {
      port.postMessage({ id: m.id, result: analyzeRequest(m.dir, m.req, m.adapterDir, load) } satisfies AnalysisReply);
    } catch (err) {
      port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err), argument: err instanceof ApiArgumentError } satisfies AnalysisReply);
    }
  });
}

void main();
