import type { BackendInfo, BackendName } from '../../shared/backend';
import type { JobEvent } from '../../shared/progress';
import type { StudyOptions, StudyOutcome } from '../finetune/loraVsSteering';
import type { FinetuneOptions, FinetuneResult } from '../finetune/runFinetune';
import type { TextFinetuneOptions, TextFinetuneResult } from '../finetune/textFinetune';
import type { TextStudyOptions } from '../finetune/textStudy';
import type { LoadProgress } from '../hf/loadHfModel';
import type { analyzeRequest } from '../runs/analyzeRequest';
import type { SaeJobOptions, SaeJobResult } from '../sae/runSae';
import type { TrainOptions, TrainResult } from '../train/trainRun';

/**
 * What crosses the boundary of the job worker (./jobWorker.ts): one request typed by kind, messages
 * back. Everything here is plain data (structured clone).
 */

/** A long job: train a run, fine-tune a base model or a model folder, or run a LoRA-vs-steering study. */
export type JobRequest =
  | { kind: 'train'; backend?: BackendName; train: TrainOptions }
  | { kind: 'finetune'; backend?: BackendName; finetune: FinetuneOptions }
  | { kind: 'study'; backend?: BackendName; study: StudyOptions }
  /** A Hugging Face model folder fine-tuned on a text dataset, and the study on one. */
  | { kind: 'textFinetune'; backend?: BackendName; textFinetune: TextFinetuneOptions }
  | { kind: 'textStudy'; backend?: BackendName; textStudy: TextStudyOptions }
  /** A sparse autoencoder trained on one hook of a run or model folder (src/core/sae/runSae.ts). */
  | { kind: 'sae'; backend?: BackendName; sae: SaeJobOptions };

export type JobKind = JobRequest['kind'];

/** What each kind of job resolves with. */
export interface JobResults {
  train: TrainResult;
  finetune: FinetuneResult;
  study: StudyOutcome;
  textFinetune: TextFinetuneResult;
  textStudy: StudyOutcome;
  sae: SaeJobResult;
}

/** A job's result with the backend it ran on. */
export type JobOutcome<K extends JobKind = JobKind> = JobResults[K] & { backend: BackendInfo };

/**
 * A model folder whose weights (as stored) are at least this big reports its loading progress to the
 * caller of an analysis; smaller ones load too fast for a progress bar to help. OOCR_MODEL_PROGRESS_MB
 * overrides it (0: every model), as does the analysis worker's `progressMinBytes`.
 */
export const MODEL_PROGRESS_MIN_BYTES = 256 * 2 ** 20;

/** The threshold in force: `override`, else OOCR_MODEL_PROGRESS_MB, else MODEL_PROGRESS_MIN_BYTES. */
export function modelProgressMinBytes(override?: number): number {
  if (override !== undefined) return override;
  const env = process.env.OOCR_MODEL_PROGRESS_MB;
  const mb = env === undefined || env.trim() === '' ? NaN : Number(env);
  return Number.isFinite(mb) && mb >= 0 ? mb * 2 ** 20 : MODEL_PROGRESS_MIN_BYTES;
}

/**
 * A worker either runs one job, or stays alive answering analysis calls (see analysisClient.ts);
 * `progressMinBytes` overrides modelProgressMinBytes() there.
 */
export type WorkerRequest = JobRequest | { kind: 'analysis'; backend?: BackendName; progressMinBytes?: number };

export interface WorkerData {
  request: WorkerRequest;
  /** Int32Array over it: index 0 set to 1 asks the job to stop after the current step. */
  cancelBuffer: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'started'; backend: BackendInfo }
  /** `stage` names the part of a study the event comes from. */
  | { type: 'event'; event: JobEvent; stage?: string }
  | { type: 'done'; result: JobResults[JobKind] }
  | { type: 'error'; message: string; runDir: string | null; lastGoodCheckpoint: string | null };

/** What the analysis worker answers: analyzeRequest(dir, req, adapterDir) of src/core/runs/analyzeRequest.ts. */
export type AnalysisCallRequest = Parameters<typeof analyzeRequest>[1];
export type AnalysisCallResult = ReturnType<typeof analyzeRequest>;

/** One analysis call to a worker started with `{ kind: 'analysis' }`. */
export interface AnalysisCall {
  id: number;
  dir: string;
  /** The adapter folder of a request on a model folder. */
  adapterDir?: string;
  req: AnalysisCallRequest;
}

/** The answer to an AnalysisCall, matched by id; `argument` marks the caller's mistake (ApiArgumentError). */
export type AnalysisReply = { id: number; result: AnalysisCallResult } | { id: number; error: string; argument: boolean };

/** Sent before the reply while the call with this id loads a model folder at least modelProgressMinBytes() big. */
export interface AnalysisProgress {
  id: number;
  progress: LoadProgress;
}
