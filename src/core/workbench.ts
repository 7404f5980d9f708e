import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ModelLoadingEvent, RunSummary, WorkbenchApi, WorkbenchEvent, WorkbenchMethod } from '../shared/api';
import { API_ARGS } from '../shared/apiSchemas';
import type { BackendName } from '../shared/backend';
import { ApiArgumentError } from './apiErrors';
import { initBackend } from './backend/initBackend';
import { createAnalysisClient } from './jobs/analysisClient';
import type { LoadProgress } from './hf/loadHfModel';
import { ADAPTER_CONFIG } from './hf/peftAdapter';
import type { LoraVsSteeringAnalysis } from '../shared/analysis';
import { ANALYSES_DIR, isRunFolder, listCheckpoints, listRuns, readManifest, readMetrics } from './io/runStore';
import { isAdapterFolder, isModelFolder, listedAdapterDir, listModels, registeredModelDir, registerModel } from './io/modelStore';
import { runTask } from './runs/openRun';
import { Rng } from './util/rng';
import { startJob } from './jobs/jobRunner';
import { PRESETS, presetConfig } from './presets';
import { checkTrainConfig } from './train/trainRun';

export interface WorkbenchOptions {
  workspaceDir: string;
  backend?: BackendName;
  /** The world model studies fine-tune when the workspace has no `world-base` run of its own. */
  exampleBase?: string;
  /** Models at least this big (bytes stored) send `model-loading` events; default modelProgressMinBytes() (256 MiB). */
  modelProgressMinBytes?: number;
}

const STUDY_FILE = 'lora_vs_steering.json';

function readStudy(dir: string): LoraVsSteeringAnalysis {
  const file = path.join(dir, ANALYSES_DIR, STUDY_FILE);
  if (!fs.existsSync(file)) throw new ApiArgumentError(`${dir}: no ${ANALYSES_DIR}/${STUDY_FILE} (not a LoRA-vs-steering study)`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LoraVsSteeringAnalysis;
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

export interface Workbench {
  /** Validates `args` against the method's schema, then runs it. */
  call(method: string, args: unknown): Promise<unknown>;
  subscribe(listener: (e: WorkbenchEvent) => void): () => void;
  /** Cancels running jobs (e.g. on shutdown). */
  dispose(): void;
}

/**
 * The contract of src/shared/api.ts implemented once, over a workspace folder; Electron IPC and the
 * web-mode server are thin transports over `call` and `subscribe`.
 */
export function createWorkbench(opts: WorkbenchOptions): Workbench {
  const root = path.resolve(opts.workspaceDir);
  const listeners = new Set<(e: WorkbenchEvent) => void>();
  const jobs = new Map<string, { cancel(): void }>();
  const emit = (e: WorkbenchEvent): void => listeners.forEach((l) => l(e));
  // Analyses run in a worker thread of their own, started on first use.
  const analyses = createAnalysisClient({ backend: opts.backend, progressMinBytes: opts.modelProgressMinBytes });

  const runDir = (id: string): string => {
    const dir = path.resolve(root, id);
    if (dir !== root && !dir.startsWith(root + path.sep)) throw new ApiArgumentError(`run id '${id}' is outside the workspace`);
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

  const impl: Required<Omit<WorkbenchApi, 'onEvent'>> = {
    getBackendInfo: () => initBackend({ backend: opts.backend }),
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
          checkpoints: m.checkpoints.length,
          finetune: m.finetune?.method,
          ...(m.finetune?.baseKind === 'model' ? { finetuneOfModel: true } : {}),
          createdAt: m.createdAt,
        };
      }),
    getRun: async ({ id }) => {
      const dir = existingRun(id);
      const manifest = readManifest(dir);
      return { id, manifest, metrics: readMetrics(dir), checkpoints: manifest.finetune ? [] : listCheckpoints(dir).map((c) => c.step) };
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
    analyze: async (req) => {
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
      const dir = runDir(name);
      if (fs.existsSync(dir) && fs.readdirSync(dir).length) throw new ApiArgumentError(`'${name}' already exists and is not empty`);
      // The workspace's own world model first; else the shipped one.
      const own = path.join(root, 'world-base');
      const base = fs.existsSync(own) ? own : opts.exampleBase;
      if (!base || !fs.existsSync(base)) throw new ApiArgumentError(`a study fine-tunes the world model: put a trained 'world-base' run in the workspace (expected at ${own})`);
      const jobId = randomUUID();
      const job = startJob({ kind: 'study', backend: opts.backend, study: { base, kind, seed, outDir: dir, loraSteps, steerSteps } }, (event) => emit({ jobId, runId: name, ...event }));
      jobs.set(jobId, job);
      job.done
        .then(
          (r) => emit({ jobId, runId: name, kind: 'finished', status: r.status }),
          (err: unknown) => emit({ jobId, runId: name, kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
        )
        .finally(() => jobs.delete(jobId));
      return { jobId, runId: name };
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
      const dir = runDir(name);
      if (isRunFolder(dir)) throw new ApiArgumentError(`a run named '${name}' already exists`);
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
      const jobId = randomUUID();
      const job = startJob({ kind: 'train', backend: opts.backend, train: { config, preset, outDir: dir } }, (event) => emit({ jobId, runId: name, ...event }));
      jobs.set(jobId, job);
      job.done.then(
        (r) => emit({ jobId, runId: name, kind: 'finished', status: r.status }),
        (err: unknown) => emit({ jobId, runId: name, kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
      ).finally(() => jobs.delete(jobId));
      return { jobId, runId: name };
    },
    listModels: async () => listModels(root),
    openModel: async ({ path: modelPath, adapter }) => {
      const summary = registerModel(root, modelPath, adapter);
      emit({ kind: 'models-changed', id: summary.id });
      return summary;
    },
    cancel: async ({ jobId }) => {
      const job = jobs.get(jobId);
      if (!job) return { cancelled: false };
      job.cancel();
      return { cancelled: true };
    },
  };

  return {
    async call(method, args) {
      if (!Object.hasOwn(API_ARGS, method)) throw new ApiArgumentError(`unknown method '${method}'`);
      const schema = API_ARGS[method as WorkbenchMethod];
      const parsed = schema.safeParse(args ?? undefined);
      if (!parsed.success) {
        throw new ApiArgumentError(`${method}: invalid arguments: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`);
      }
      const fn = impl[method as WorkbenchMethod] as (a: unknown) => Promise<unknown>;
      return fn(parsed.data);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      jobs.forEach((j) => j.cancel());
      analyses.dispose();
    },
  };
}
