import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary, WorkbenchApi, WorkbenchEvent, WorkbenchMethod } from '../shared/api';
import { API_ARGS } from '../shared/apiSchemas';
import type { BackendName } from '../shared/backend';
import { initBackend } from './backend/initBackend';
import { listRuns, readManifest, readMetrics } from './io/runStore';
import { startTrainingJob, type TrainingJob } from './jobs/trainingJob';
import { PRESETS, presetConfig } from './presets';
import { checkTrainConfig } from './train/trainRun';

export interface WorkbenchOptions {
  workspaceDir: string;
  backend?: BackendName;
}

/** A request that failed validation: transports answer it as a client error, not a crash. */
export class ApiArgumentError extends Error {}

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
  const jobs = new Map<string, TrainingJob>();
  const emit = (e: WorkbenchEvent): void => listeners.forEach((l) => l(e));

  const runDir = (id: string): string => {
    const dir = path.resolve(root, id);
    if (dir !== root && !dir.startsWith(root + path.sep)) throw new ApiArgumentError(`run id '${id}' is outside the workspace`);
    return dir;
  };

  const impl: Required<Omit<WorkbenchApi, 'onEvent'>> = {
    getBackendInfo: () => initBackend({ backend: opts.backend }),
    listRuns: async () =>
      listRuns(root).map((r): RunSummary => {
        const id = path.relative(root, r.dir).split(path.sep).join('/');
        if (!r.manifest) return { id, error: r.error };
        const m = r.manifest;
        return { id, status: m.status, preset: m.preset, task: m.config.task, step: m.step, finalMetrics: m.finalMetrics };
      }),
    getRun: async ({ id }) => {
      const dir = runDir(id);
      return { id, manifest: readManifest(dir), metrics: readMetrics(dir) };
    },
    listPresets: async () => Object.entries(PRESETS).map(([name, p]) => ({ name, description: p.description })),
    startTraining: async ({ preset, name, overrides }) => {
      if (!PRESETS[preset]) throw new ApiArgumentError(`unknown preset '${preset}'`);
      const dir = runDir(name);
      if (fs.existsSync(path.join(dir, 'run.json'))) throw new ApiArgumentError(`a run named '${name}' already exists`);
      const config = presetConfig(preset);
      if (overrides?.steps !== undefined) config.steps = overrides.steps;
      if (overrides?.seed !== undefined) config.seed = overrides.seed;
      if (overrides?.lr !== undefined) config.optimizer.lr = overrides.lr;
      checkTrainConfig(config);
      const jobId = randomUUID();
      const job = startTrainingJob({ config, preset, outDir: dir, backend: opts.backend }, (event) => emit({ jobId, runId: name, ...event }));
      jobs.set(jobId, job);
      job.done.then(
        (r) => emit({ jobId, runId: name, kind: 'finished', status: r.status }),
        (err: unknown) => emit({ jobId, runId: name, kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
      ).finally(() => jobs.delete(jobId));
      return { jobId, runId: name };
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
    },
  };
}
