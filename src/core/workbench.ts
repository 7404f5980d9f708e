import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ModelLoadingEvent, RunSummary, WorkbenchApi, WorkbenchEvent, WorkbenchMethod } from '../shared/api';
import { API_ARGS } from '../shared/apiSchemas';
import type { BackendInfo, BackendName } from '../shared/backend';
import { ApiArgumentError } from './apiErrors';
import { initBackend } from './backend/initBackend';
import { createAnalysisClient } from './jobs/analysisClient';
import type { LoadProgress } from './hf/loadHfModel';
import { ADAPTER_CONFIG } from './hf/peftAdapter';
import type { LoraVsSteeringAnalysis } from '../shared/analysis';
import { ANALYSES_DIR, effectiveStatus, isRunFolder, listCheckpoints, listRuns, readManifest, readMetrics, SWEEPS_DIR } from './io/runStore';
import { assertInsideWorkspace, assertNewRunFolder, RunFolderError } from './io/runFolderGuard';
import { isAdapterFolder, isModelFolder, listedAdapterDir, listModels, registeredModelDir, registerModel } from './io/modelStore';
import { runTask } from './runs/openRun';
import { Rng } from './util/rng';
import { finalEvalCounts } from '../shared/evalCounts';
import { createJobQueue } from './jobs/jobQueue';
import { READ_LIMITS, readRegularTextSync } from './io/safeFs';
import { startJob, type JobOutcome, type JobRequest } from './jobs/jobRunner';
import { PRESETS, presetConfig } from './presets';
import { checkTrainConfig } from './train/trainRun';
import { createSweepJobs } from './sweeps/sweepJobs';
import { SAES_DIR } from '../shared/sae';
import { checkSaeJob, existingSaeFolder, getWorkspaceSae, listWorkspaceSaes, newSaeFolder, saeFeatures, saeIntervention, saeJobOptions, saeSubjectId } from './sae/saeWorkspace';

export interface WorkbenchOptions {
  workspaceDir: string;
  backend?: BackendName;
  /** The world model studies fine-tune when the workspace has no `world-base` run of its own. */
  exampleBase?: string;
  /** Models at least this big (bytes stored) send `model-loading` events; default modelProgressMinBytes() (256 MiB). */
  modelProgressMinBytes?: number;
  /** Jobs that may run at once; default defaultConcurrency() (OOCR_MAX_JOBS, else from cores and memory). */
  maxJobs?: number;
  /** Analysis workers; default defaultAnalysisWorkers() (OOCR_ANALYSIS_WORKERS). */
  analysisWorkers?: number;
}

const STUDY_FILE = 'lora_vs_steering.json';

function readStudy(dir: string): LoraVsSteeringAnalysis {
  const file = path.join(dir, ANALYSES_DIR, STUDY_FILE);
  if (!fs.existsSync(file)) throw new ApiArgumentError(`${dir}: no ${ANALYSES_DIR}/${STUDY_FILE} (not a LoRA-vs-steering study)`);
  const text = readRegularTextSync(file, READ_LIMITS.json);
  try {
    return JSON.parse(text) as LoraVsSteeringAnalysis;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Folders (one level of nesting) holding a study record. */
function listStudies(root: string): { id: string; record: LoraVsSteeringAnalysis }[] {
  const out: { id: string; record: LoraVsSteeringAnalysis }[] = [];
  const visit = (dir: string, id: string, depth: number): void => {
    if (fs.existsSync(path.join(dir, ANALYSES_DIR, STUDY_FILE))) {
      try {
        out.push({ id, record: readStudy(dir) });
      } catch {
        // Listed by getStudy's error instead: a broken record must not hide the others.
      }
    }
    if (depth === 0) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && !e.name.startsWith('.')) visit(path.join(dir, e.name), id ? `${id}/${e.name}` : e.name, depth - 1);
    }
  };
  for (const e of fs.readdirSync(root, { withFileTypes: true })) if (e.isDirectory() && !e.name.startsWith('.')) visit(path.join(root, e.name), e.name, 1);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export { ApiArgumentError };

/** A refusal of the run-folder guard is the caller's mistake (a name, an id), answered as such. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RunFolderError) throw new ApiArgumentError(err.message);
    throw err;
  }
}

/** What a transport knows about one call beyond its arguments. */
interface CallOptions {
  signal?: AbortSignal;
}

export interface Workbench {
  /** Validates `args` against the method's schema, then runs it; `signal` abandons an analysis (the caller went away). */
  call(method: string, args: unknown, opts?: { signal?: AbortSignal }): Promise<unknown>;
  subscribe(listener: (e: WorkbenchEvent) => void): () => void;
  /** Cancels running jobs without waiting (e.g. when the process is going away regardless). */
  dispose(): void;
  /** Cancels every job, waits (at most `timeoutMs`) for the running ones to save, then stops the analysis workers. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * The contract of src/shared/api.ts implemented once, over a workspace folder; Electron IPC and the
 * web-mode server are thin transports over `call` and `subscribe`.
 */
export function createWorkbench(opts: WorkbenchOptions): Workbench {
  const root = path.resolve(opts.workspaceDir);
  const listeners = new Set<(e: WorkbenchEvent) => void>();
  const emit = (e: WorkbenchEvent): void => listeners.forEach((l) => l(e));
  // Training and studies go through one bounded queue: at most `concurrency` workers at once, one job
  // per run folder (a second start of the same name is refused while the first is queued or running).
  const queue = createJobQueue({ concurrency: opts.maxJobs });
  /** Queues a job writing run folder `runId`; its events (queued, started, progress, the end) go to every listener. */
  const enqueue = (runId: string, request: JobRequest): { jobId: string; runId: string } => {
    const jobId = randomUUID();
    const h = queue.submit({
      jobId,
      runId,
      kind: request.kind,
      start: () => startJob(request, (event) => emit({ jobId, runId, ...event })),
      onStart: () => emit({ jobId, runId, kind: 'started' }),
      cancelledResult: () => ({ status: 'cancelled' }) as JobOutcome,
    });
    const waiting = queue.list().find((j) => j.jobId === jobId);
    if (waiting?.state === 'queued') emit({ jobId, runId, kind: 'queued', position: waiting.position ?? 1 });
    h.done.then(
      (r) => emit({ jobId, runId, kind: 'finished', status: r.status }),
      (err: unknown) => emit({ jobId, runId, kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
    );
    return { jobId, runId };
  };
  // Sweeps: each a job of the same queue, holding one slot per cell it trains at once (sweepJobs.ts).
  const sweeps = createSweepJobs({ root, queue, emit, backend: opts.backend });
  // Analyses run in a worker thread of their own, started on first use.
  const analyses = createAnalysisClient({ backend: opts.backend, progressMinBytes: opts.modelProgressMinBytes, workers: opts.analysisWorkers });

  const runDir = (id: string): string => {
    const dir = path.resolve(root, id);
    if (dir !== root && !dir.startsWith(root + path.sep)) throw new ApiArgumentError(`run id '${id}' is outside the workspace`);
    // Symbolic links included: the folder's real path (every existing ancestor resolved) must stay inside.
    guarded(() => assertInsideWorkspace(dir, root, `run id '${id}'`));
    return dir;
  };
  /** A folder for a new run (or study) named `name`: new or empty, in the workspace, not inside a run. */
  const newRunDir = (name: string): string => {
    if (name === SWEEPS_DIR) throw new ApiArgumentError(`'${SWEEPS_DIR}' is the folder of the workspace's sweeps (docs/sweeps.md); choose another name`);
    if (name === SAES_DIR) throw new ApiArgumentError(`'${SAES_DIR}' is the folder of the workspace's SAEs (docs/sae.md); choose another name`);
    const dir = runDir(name);
    if (isRunFolder(dir)) throw new ApiArgumentError(`a run named '${name}' already exists`);
    guarded(() => assertNewRunFolder(dir, { workspace: root }));
    return dir;
  };
  /**
   * A run the caller names must exist: an unknown id is the caller's mistake, not a server fault. Where
   * `models` allows it (analyses), a Hugging Face model folder (config.json) is accepted as well.
   */
  const existingRun = (id: string, o: { models?: boolean } = {}): string => {
    // A model registered by path (models.json) is named by its id, wherever its folder is.
    const registered = o.models ? registeredModelDir(root, id) : null;
    if (registered) return registered;
    const dir = runDir(id);
    // `run/checkpoints` is part of a run, never a run of its own (listRuns lists none there).
    const group = id.includes('/') ? path.dirname(dir) : null;
    if (group !== null && isRunFolder(group)) throw new ApiArgumentError(`'${id}' lies inside the run '${path.basename(group)}', not a run of the workspace`);
    if (isRunFolder(dir)) return dir;
    const model = isModelFolder(dir);
    if (model && o.models) return dir;
    if (model) throw new ApiArgumentError(`'${id}' is a model folder, not a run`);
    throw new ApiArgumentError(`no run '${id}' in the workspace${o.models ? ' (nor a model folder with config.json)' : ''}`);
  };
  /** A PEFT adapter folder the caller names, for a model folder: as the model lists it (listModels), else a folder of the workspace. */
  const existingAdapter = (id: string, model?: { dir: string; id: string }): string => {
    const listed = model ? listedAdapterDir(root, model.dir, model.id, id) : null;
    if (listed) return listed;
    const dir = runDir(id);
    if (!isAdapterFolder(dir)) throw new ApiArgumentError(`no adapter '${id}' in the workspace (an adapter folder holds ${ADAPTER_CONFIG})`);
    return dir;
  };

  /**
   * The folders an SAE request reads: the SAE, its run or model (as asked, else as it was trained), the
   * study. Feature reports and interventions then run on this thread's backend (small SAEs of toy
   * models take seconds).
   */
  const saeInputs = (a: { name: string; id?: string; study?: string }) => {
    const saeDir = existingSaeFolder(root, a.name);
    const subjectId = a.id ?? saeSubjectId(root, a.name).subject;
    if (!subjectId) throw new ApiArgumentError(`SAE '${a.name}' does not record the run it was trained on: give its id`);
    // Runs only: these run on this thread, where a big model folder must not be loaded (oocr sae features reads those).
    const subjectDir = existingRun(subjectId);
    const studyDir = a.study === undefined ? undefined : runDir(a.study);
    return { saeDir, name: a.name, subjectDir, subjectId, ...(studyDir ? { studyDir, studyId: a.study } : {}) };
  };

  // This thread's backend; initBackend itself makes overlapping starts share one.
  const backend = (): Promise<BackendInfo> => initBackend({ backend: opts.backend });

  const impl: Required<Omit<WorkbenchApi, 'onEvent'>> = {
    getBackendInfo: () => backend(),
    listRuns: async () =>
      listRuns(root).map((r): RunSummary => {
        const id = path.relative(root, r.dir).split(path.sep).join('/');
        if (!r.manifest) return { id, error: r.error };
        const m = r.manifest;
        return {
          id,
          status: m.status,
          preset: m.preset,
          task: m.config.task,
          step: m.step,
          finalMetrics: m.finalMetrics,
          finalEvalCounts: finalEvalCounts(m),
          checkpoints: m.checkpoints.length,
          finetune: m.finetune?.method,
          ...(m.finetune?.baseKind === 'model' ? { finetuneOfModel: true } : {}),
          createdAt: m.createdAt,
        };
      }),
    getRun: async ({ id }) => {
      const dir = existingRun(id);
      const manifest = readManifest(dir);
      // A run whose owner died shows as 'interrupted' (resumable), not forever 'running'.
      return { id, manifest: { ...manifest, status: effectiveStatus(dir, manifest) }, metrics: readMetrics(dir), checkpoints: manifest.finetune ? [] : listCheckpoints(dir).map((c) => c.step) };
    },
    samplePrompts: async ({ id, perSet }) => {
      const task = runTask(readManifest(existingRun(id)));
      const sets = task.evalSets(new Rng(0), perSet ?? 6);
      return {
        vocab: [...task.vocab],
        seqLen: task.seqLen,
        sets: sets.map((set) => ({
          name: set.name,
          prompts: Array.from({ length: set.batch }, (_, i) => ({
            tokens: Array.from(set.tokens.subarray(i * set.seqLen, (i + 1) * set.seqLen), (t) => task.vocab[t]),
            answer: task.vocab[set.targets[i]],
          })),
        })),
      };
    },
    analyze: async (req, call?: CallOptions) => {
      const dir = existingRun(req.id, { models: true });
      const adapterDir = req.adapter === undefined ? undefined : existingAdapter(req.adapter, { dir, id: req.id });
      // Off this thread: the caller (Electron main, the web server) keeps answering while it runs; a
      // model folder loads there too (a big one reporting its progress as `model-loading` events), and
      // stays loaded for the next request.
      let last: LoadProgress | null = null;
      const loading = (p: LoadProgress, done: boolean): void =>
        emit({ kind: 'model-loading', id: req.id, ...(req.adapter !== undefined ? { adapter: req.adapter } : {}), bytesRead: p.bytesRead, totalBytes: p.totalBytes, ...(done ? { done: true } : {}) } satisfies ModelLoadingEvent);
      try {
        return await analyses.run({
          dir,
          adapterDir,
          req,
          signal: call?.signal,
          onProgress: (p) => {
            last = p;
            loading(p, p.bytesRead >= p.totalBytes);
          },
        });
      } finally {
        // A load that failed part way still ends, so a progress bar does not stay up.
        const l = last as LoadProgress | null;
        if (l && l.bytesRead < l.totalBytes) loading(l, true);
      }
    },
    listStudies: async () =>
      listStudies(root).map((s) => ({ id: s.id, kind: s.record.kind, seed: s.record.seed, acc: s.record.acc })),
    getStudy: async ({ id }) => readStudy(runDir(id)),
    startStudy: async ({ name, kind, seed, loraSteps, steerSteps }) => {
      const dir = newRunDir(name);
      // The workspace's own world model first; else the shipped one.
      const own = path.join(root, 'world-base');
      const base = fs.existsSync(own) ? own : opts.exampleBase;
      if (!base || !fs.existsSync(base)) throw new ApiArgumentError(`a study fine-tunes the world model: put a trained 'world-base' run in the workspace (expected at ${own})`);
      return enqueue(name, { kind: 'study', backend: opts.backend, study: { base, kind, seed, outDir: dir, loraSteps, steerSteps } });
    },
    listPresets: async () =>
      Object.entries(PRESETS).map(([name, p]) => {
        const c = p.config;
        return {
          name,
          description: p.description,
          task: c.task,
          steps: c.steps,
          seed: c.seed,
          lr: c.optimizer.lr,
          weightDecay: c.optimizer.weightDecay,
          batchSize: c.batchSize,
          ov: c.model.ov,
          ovRank: c.model.ov === 'factorized' ? c.model.ovRank : undefined,
        };
      }),
    startTraining: async ({ preset, name, overrides }) => {
      if (!PRESETS[preset]) throw new ApiArgumentError(`unknown preset '${preset}'`);
      const dir = newRunDir(name);
      const config = presetConfig(preset);
      if (overrides?.steps !== undefined) config.steps = overrides.steps;
      if (overrides?.seed !== undefined) config.seed = overrides.seed;
      if (overrides?.lr !== undefined) config.optimizer.lr = overrides.lr;
      if (overrides?.weightDecay !== undefined) config.optimizer.weightDecay = overrides.weightDecay;
      if (overrides?.batchSize !== undefined) config.batchSize = overrides.batchSize;
      if (overrides?.ovRank !== undefined) {
        if (config.model.ov !== 'factorized') throw new ApiArgumentError(`ovRank applies to factorized-OV presets; '${preset}' has ov '${config.model.ov}'`);
        config.model.ovRank = overrides.ovRank;
      }
      try {
        checkTrainConfig(config);
      } catch (err) {
        // An override the model cannot take (e.g. a rank above d_model) is the caller's error.
        throw new ApiArgumentError(`${preset} with these overrides is not a valid configuration: ${err instanceof Error ? err.message : String(err)}`);
      }
      return enqueue(name, { kind: 'train', backend: opts.backend, train: { config, preset, outDir: dir } });
    },
    listSaes: async () => listWorkspaceSaes(root),
    getSae: async ({ name }) => getWorkspaceSae(root, name),
    startSae: async (args) => {
      // Runs only: a model folder trains on a dataset (oocr sae train --model DIR --data FILE).
      const targetDir = existingRun(args.id);
      const runId = `${SAES_DIR}/${args.name}`;
      if (queue.list().some((j) => j.runId === runId)) throw new ApiArgumentError(`an SAE named '${args.name}' is already being trained`);
      const outDir = newSaeFolder(root, args.name);
      const job = saeJobOptions(args, { targetDir, outDir });
      await backend();
      checkSaeJob(job);
      return enqueue(runId, { kind: 'sae', backend: opts.backend, sae: job });
    },
    saeFeatures: async (args) => {
      const inp = saeInputs(args);
      await backend();
      return saeFeatures(inp, args);
    },
    saeIntervention: async (args) => {
      const inp = saeInputs(args);
      await backend();
      return saeIntervention({ ...inp, studyDir: inp.studyDir as string, studyId: args.study }, args);
    },
    listModels: async () => listModels(root),
    openModel: async ({ path: modelPath, adapter }) => {
      const summary = registerModel(root, modelPath, adapter);
      emit({ kind: 'models-changed', id: summary.id });
      return summary;
    },
    cancel: async ({ jobId }) => ({ cancelled: queue.cancel(jobId) }),
    listSweeps: async () => sweeps.list(),
    listSweepPresets: async () => sweeps.presets(),
    getSweep: async ({ name }) => sweeps.get(name),
    checkSweep: async (args) => sweeps.check(args),
    startSweep: async (args) => sweeps.start(args),
    cancelSweep: async ({ name }) => sweeps.cancel(name),
    listJobs: async () => queue.list(),
    resumeRun: async ({ id }) => {
      const dir = existingRun(id);
      const manifest = readManifest(dir);
      if (manifest.finetune) throw new ApiArgumentError(`'${id}' is a fine-tune; resuming fine-tunes is not supported yet (start it again under a new name)`);
      const status = effectiveStatus(dir, manifest);
      if (status === 'completed') throw new ApiArgumentError(`'${id}' has completed; there is nothing to resume`);
      if (status === 'running') throw new ApiArgumentError(`'${id}' is still running (its owner process is alive)`);
      return enqueue(id, { kind: 'train', backend: opts.backend, train: { config: manifest.config, preset: manifest.preset, outDir: dir, resume: true } });
    },
  };

  return {
    async call(method, args, callOpts) {
      if (!Object.hasOwn(API_ARGS, method)) throw new ApiArgumentError(`unknown method '${method}'`);
      const schema = API_ARGS[method as WorkbenchMethod];
      const parsed = schema.safeParse(args ?? undefined);
      if (!parsed.success) {
        throw new ApiArgumentError(`${method}: invalid arguments: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`);
      }
      const fn = impl[method as WorkbenchMethod] as (a: unknown, o?: CallOptions) => Promise<unknown>;
      return fn(parsed.data, callOpts);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      void queue.drain(0);
      analyses.dispose();
    },
    async shutdown(timeoutMs = 10_000) {
      // Running jobs save their weights and end 'cancelled' (resumable); waiting ones never start.
      await queue.drain(timeoutMs);
      analyses.dispose();
    },
  };
}
