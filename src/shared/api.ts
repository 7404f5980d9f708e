import type { z } from 'zod';
import type { LoraVsSteeringAnalysis } from './analysis';
import type { AnalysisRequest, AnalysisResult } from './analyses';
import type { API_ARGS } from './apiSchemas';
import type { BackendInfo } from './backend';
import type { MetricsLine, RunManifest } from './modelConfig';
import type { JobEvent } from './progress';
import type { SaeDetails, SaeFeaturesResult, SaeInterventionResult, SaeSummary } from './sae';
import type { SweepDetails, SweepListItem, SweepPlan, SweepPresetInfo, SweepWorkbenchEvent } from './sweeps';

export type { SaeCurvePoint, SaeDensityBin, SaeDetails, SaeFeatureExample, SaeFeatureInfo, SaeFeatureRelevance, SaeFeaturesResult, SaeInterventionResult, SaeSummary } from './sae';
export type { SweepCellInfo, SweepDetails, SweepListItem, SweepPlan, SweepPresetInfo, SweepSpecShape, SweepWorkbenchEvent } from './sweeps';
export type {
  AnalysisKind,
  AnalysisRequest,
  AnalysisResult,
  AttentionAnalysis,
  LensAnalysis,
  OvSpectrumAnalysis,
  PatchingAnalysis,
  ProjectionAnalysis,
  LoraDeltasAnalysis,
  LoraDeltaToken,
} from './analyses';

/**
 * The WorkbenchApi contract: the one interface the renderer talks to, whatever the transport (Electron
 * IPC through the preload, or the loopback HTTP server of web mode). Methods return Promises and take
 * and return plain data only. Argument types are inferred from the zod schemas of apiSchemas.ts, which
 * validate every call at the receiving end, so the two cannot drift.
 */
/** The arguments of a method, as a caller writes them. */
export type ApiArgs<M extends keyof typeof API_ARGS> = z.input<(typeof API_ARGS)[M]>;

export interface WorkbenchApi {
  /** Subscribes to pushed events (training progress, job ends); returns the unsubscribe function. */
  onEvent?(listener: (e: WorkbenchEvent) => void): () => void;
  /** The compute backend in use, with the backends tried before it and why each failed. */
  getBackendInfo(): Promise<BackendInfo>;
  /** Runs in the workspace (folders holding run.json, one level of nesting allowed). */
  listRuns(): Promise<RunSummary[]>;
  /** One run's manifest and logged metrics. `id` is the run's path relative to the workspace. */
  getRun(args: ApiArgs<'getRun'>): Promise<RunDetails>;
  /** Example prompts from the run's task (per eval split) and its vocabulary, for prompt pickers. */
  samplePrompts(args: ApiArgs<'samplePrompts'>): Promise<PromptSamples>;
  /** Runs one analysis on a run's checkpoint (default: the latest) and returns plain data. */
  analyze(args: AnalysisRequest): Promise<AnalysisResult>;
  /** LoRA-vs-steering studies in the workspace (folders holding analyses/lora_vs_steering.json). */
  listStudies(): Promise<StudySummary[]>;
  /** One study's full record (what `oocr reproduce lora-vs-steering` wrote). */
  getStudy(args: ApiArgs<'getStudy'>): Promise<LoraVsSteeringAnalysis>;
  /** Runs the LoRA-vs-steering reproduction (LoRA, then steering vectors) into a new folder, as a job. */
  startStudy(args: ApiArgs<'startStudy'>): Promise<{ jobId: string; runId: string }>;
  /** Named starting configurations for the Train view. */
  listPresets(): Promise<PresetSummary[]>;
  /** Starts training a preset into a new run folder `name` of the workspace; progress arrives as events. */
  startTraining(args: ApiArgs<'startTraining'>): Promise<{ jobId: string; runId: string }>;
  /** Asks a job to stop after its current step (its weights are saved). */
  cancel(args: ApiArgs<'cancel'>): Promise<{ cancelled: boolean }>;
  /**
   * Continues a cancelled, failed or interrupted training run from its last checkpoint (with its
   * optimizer and data state), as a job: it ends as the uninterrupted run would have, bit for bit.
   */
  resumeRun(args: ApiArgs<'resumeRun'>): Promise<{ jobId: string; runId: string }>;
  /** Jobs running and waiting, in order (at most the scheduler's concurrency run at once). */
  listJobs(): Promise<JobInfo[]>;
  /** The workspace's sweeps (WORKSPACE/sweeps/<name>/sweep.json, and sweeps queued in this app), with cell counts. */
  listSweeps(): Promise<SweepListItem[]>;
  /** The shipped sweeps (rank-sweep, smoke, …) with their specs. */
  listSweepPresets(): Promise<SweepPresetInfo[]>;
  /** One sweep: its spec, every cell (status, step, worker, final metrics, run id), chance per metric, the presets. */
  getSweep(args: ApiArgs<'getSweep'>): Promise<SweepDetails>;
  /** Checks a sweep (a preset or a spec, optional name, steps, workers) without starting it: its cell count, or a clear error. */
  checkSweep(args: ApiArgs<'checkSweep'>): Promise<SweepPlan>;
  /**
   * Starts (or resumes: same name and spec) a sweep into WORKSPACE/sweeps/<name>/ as one job of the queue,
   * its cells trained `workers` at a time in worker threads; progress arrives as `sweep-*` events.
   */
  startSweep(args: ApiArgs<'startSweep'>): Promise<{ jobId: string; name: string; cells: number; workers: number }>;
  /** Cancels a queued or running sweep: queued cells never start, running ones stop after their step (saved, resumable). */
  cancelSweep(args: ApiArgs<'cancelSweep'>): Promise<{ cancelled: boolean }>;
  /** The workspace's sparse autoencoders (WORKSPACE/saes/<name>/, SAELens layout), with their final metrics. */
  listSaes(): Promise<SaeSummary[]>;
  /** One SAE: cfg.json, training summary, training curve (metrics.jsonl) and feature density histogram. */
  getSae(args: ApiArgs<'getSae'>): Promise<SaeDetails>;
  /** Trains an SAE on a hook of a run into WORKSPACE/saes/<name> as a job (progress, ETA, cancel as for training). */
  startSae(args: ApiArgs<'startSae'>): Promise<{ jobId: string; runId: string }>;
  /**
   * Per-feature report of an SAE on its run: density, top-activating prompts, activation histogram,
   * logit effects, MI with labels; with a study, cosines with its vectors and the latent-country label.
   */
  saeFeatures(args: ApiArgs<'saeFeatures'>): Promise<SaeFeaturesResult>;
  /** One feature ablated in the study's steered model and added (alpha × its direction) to the base model: held-out accuracies. */
  saeIntervention(args: ApiArgs<'saeIntervention'>): Promise<SaeInterventionResult>;
  /**
   * Hugging Face model folders: those in the workspace (config.json + safetensors, one level of
   * nesting) and those registered by path (openModel), each with the PEFT adapters found inside or
   * beside it or registered with it. Reads config.json and safetensors headers only. A folder that
   * cannot be read is listed with its error.
   */
  listModels(): Promise<ModelSummary[]>;
  /**
   * Adds a model folder (an absolute path) to the workspace's models.json, optionally with a PEFT
   * adapter folder for it, after checking both; returns the model's summary. Its id is what every
   * analysis takes as `id`.
   */
  openModel(args: ApiArgs<'openModel'>): Promise<ModelSummary>;
}

/** A PEFT LoRA adapter of a model (adapter_config.json + adapter_model.safetensors). */
export interface AdapterSummary {
  /** What analyses take as `adapter`: its path in the workspace, or `<model id>/<folder>` for one outside it. */
  id: string;
  path: string;
  r?: number;
  alpha?: number;
  /** adapter_config.json's target_modules (a list, or one regex). */
  targets?: string[] | string;
  /** Layers it adapts. */
  layers?: number[];
  /** Set when a registered adapter (or one inside the model's folder) no longer fits the model. */
  error?: string;
}

/** A Hugging Face model folder the workbench can analyse. */
export interface ModelSummary {
  /** What analyses take as `id`: its path in the workspace, or `models/<folder>` when registered by path. */
  id: string;
  /** The folder's absolute path. */
  path: string;
  source: 'workspace' | 'registered';
  /** config.json's model_type. */
  architecture?: string;
  nLayers?: number;
  dModel?: number;
  nHeads?: number;
  dVocab?: number;
  /** Context length. */
  nCtx?: number;
  /** Parameters stored (weights only, buffers excluded). */
  nParams?: number;
  /** The weights' stored dtype ('BF16'; 'F16+F32' when mixed, most common first). */
  dtype?: string;
  /** Bytes of the weight files. */
  sizeBytes?: number;
  /** Whether it has a tokenizer.json (else prompts are token ids, "#12 #7"). */
  tokenizer?: boolean;
  adapters: AdapterSummary[];
  /** Set when the folder cannot be read as a supported model; it is listed anyway. */
  error?: string;
}

/** A preset with the defaults a form shows as placeholders. */
export interface PresetSummary {
  name: string;
  description: string;
  task: string;
  steps: number;
  seed: number;
  lr: number;
  weightDecay: number;
  batchSize: number;
  ov: string;
  /** Factorized OV presets: the rank of W_O W_V (the knob of the factorization experiment). */
  ovRank?: number;
}

/** What the Train view may change on a preset (the CLI's flags of the same names; ovRank only for factorized-OV presets). */
export type TrainOverrides = NonNullable<ApiArgs<'startTraining'>['overrides']>;

export interface RunDetails {
  id: string;
  manifest: RunManifest;
  metrics: MetricsLine[];
  /** Steps of the saved checkpoints, ascending (empty for adapter / steering-vector runs). */
  checkpoints: number[];
}

export interface PromptSamples {
  vocab: string[];
  seqLen: number;
  sets: { name: string; prompts: { tokens: string[]; answer: string }[] }[];
}

export interface StudySummary {
  id: string;
  kind: LoraVsSteeringAnalysis['kind'];
  seed: number;
  acc: LoraVsSteeringAnalysis['acc'];
}

export interface RunSummary {
  id: string;
  status?: RunManifest['status'];
  preset?: string | null;
  task?: string;
  step?: number;
  finalMetrics?: Record<string, number>;
  /** Number of saved checkpoints (0 for adapter / steering-vector runs). */
  checkpoints?: number;
  /** Fine-tune runs: how the base model was adapted. */
  finetune?: 'full' | 'lora' | 'steer';
  /** Questions behind each final accuracy (finalEvalCounts of src/shared/evalCounts.ts), for intervals. */
  finalEvalCounts?: Record<string, number>;
  /** Fine-tunes of a Hugging Face model folder on text (not of a toy checkpoint). */
  finetuneOfModel?: boolean;
  createdAt?: string;
  /** Set when run.json cannot be read; the run is listed anyway so nothing disappears silently. */
  error?: string;
}

/** Events pushed to the renderer. */
/** A job in the scheduler: running, or waiting for a free slot (`position` 1 = next). */
export interface JobInfo {
  jobId: string;
  runId: string;
  kind: string;
  state: 'queued' | 'running';
  queuedAt: string;
  startedAt?: string;
  position?: number;
}

export type WorkbenchEvent =
  | ({ jobId: string; runId: string } & (
      | JobEvent
      | { kind: 'queued'; position: number }
      | { kind: 'started' }
      | { kind: 'finished'; status: string }
      | { kind: 'failed'; message: string }
    ))
  | { kind: 'menu'; command: MenuCommand }
  | { kind: 'workspace-changed'; dir: string }
  /** A model (or adapter) was added to the workspace (openModel): lists reload. */
  | { kind: 'models-changed'; id: string }
  | ModelLoadingEvent
  /** A sweep's state, a cell's status change, a cell's training progress (src/shared/sweeps.ts). */
  | SweepWorkbenchEvent;

/**
 * An `analyze` on model `id` (with `adapter`) is reading a big model folder's weights (the worker's
 * threshold, a few hundred MB): bytes as stored on disk, across shards. Sent at 0, then every ~1% or
 * 100 ms; the last event of a load has `done: true` (bytesRead = totalBytes when it loaded; less when
 * it failed). Models already cached send none.
 */
export interface ModelLoadingEvent {
  kind: 'model-loading';
  id: string;
  adapter?: string;
  bytesRead: number;
  totalBytes: number;
  done?: true;
}

/** Application-menu commands the main process forwards to the renderer. */
export type MenuCommand = 'new-run' | 'toggle-figure-theme' | 'export-screenshot-failed' | 'export-screenshot-saved';

/** Every IPC channel starts with this; the preload refuses any other. */
export const IPC_PREFIX = 'workbench:';

export type IpcChannel = `${typeof IPC_PREFIX}${string}`;

/** Request/response methods of WorkbenchApi. */
export type WorkbenchMethod = Exclude<keyof WorkbenchApi, 'onEvent'>;

/** Method → IPC channel. Main registers one `ipcMain.handle` per entry; the preload invokes them. */
export const IPC_CHANNELS = {
  getBackendInfo: 'workbench:getBackendInfo',
  listRuns: 'workbench:listRuns',
  getRun: 'workbench:getRun',
  samplePrompts: 'workbench:samplePrompts',
  analyze: 'workbench:analyze',
  listStudies: 'workbench:listStudies',
  getStudy: 'workbench:getStudy',
  startStudy: 'workbench:startStudy',
  listPresets: 'workbench:listPresets',
  startTraining: 'workbench:startTraining',
  cancel: 'workbench:cancel',
  listJobs: 'workbench:listJobs',
  resumeRun: 'workbench:resumeRun',
  listSweeps: 'workbench:listSweeps',
  listSweepPresets: 'workbench:listSweepPresets',
  getSweep: 'workbench:getSweep',
  checkSweep: 'workbench:checkSweep',
  startSweep: 'workbench:startSweep',
  cancelSweep: 'workbench:cancelSweep',
  listSaes: 'workbench:listSaes',
  getSae: 'workbench:getSae',
  startSae: 'workbench:startSae',
  saeFeatures: 'workbench:saeFeatures',
  saeIntervention: 'workbench:saeIntervention',
  listModels: 'workbench:listModels',
  openModel: 'workbench:openModel',
} as const satisfies { [M in WorkbenchMethod]: IpcChannel };

/** The event channel (main → renderer). */
export const IPC_EVENT_CHANNEL: IpcChannel = 'workbench:event';
