import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../../shared/backend';
import { canonicalJson } from '../../shared/canonicalJson';
import type { RunManifest, TrainConfig } from '../../shared/modelConfig';
import {
  SweepName,
  SWEEPS_DIR,
  sweepCellRunId,
  type SweepCellInfo,
  type SweepDetails,
  type SweepJobState,
  type SweepListItem,
  type SweepPlan,
  type SweepPresetInfo,
  type SweepSpecShape,
  type SweepWorkbenchEvent,
} from '../../shared/sweeps';
import { ApiArgumentError } from '../apiErrors';
import { isRunFolder, readManifest, RUN_FILE, subdirectories } from '../io/runStore';
import { assertInsideWorkspace, RunFolderError } from '../io/runFolderGuard';
import type { JobQueue } from '../jobs/jobQueue';
import { runTask } from '../runs/openRun';
import { runDistributedSweep } from './distributedSweep';
import { readSweepRecord, runSweep, SWEEP_FILE, type SweepEvent, type SweepRecord, type SweepSummary } from './runSweep';
import { cellCount, parseSweepSpec, planCells, SWEEP_PRESETS, sweepPreset, type SweepCell, type SweepSpec } from './sweepSpec';

/**
 * Sweeps as jobs of the workbench (the app's Sweeps view, docs/sweeps.md#in-the-app): each sweep lives
 * in WORKSPACE/sweeps/<name>/ and runs through runSweep. A running sweep is one job of the app's job
 * queue (kind 'sweep', run id `sweeps/<name>`: a second start of the same sweep is refused while the
 * first is queued or running, Cancel and shutdown reach it like any job) and holds one queue slot per
 * cell it trains at once: `workers` − 1 placeholder jobs (kind 'sweep-worker') wait in the queue
 * beside it, so trainings started meanwhile queue behind the sweep's workers instead of
 * oversubscribing the machine. Progress goes out as `sweep-*` events on the workbench's event stream.
 */

/** The arguments of startSweep / checkSweep, as validated by apiSchemas (StartSweepArgs). */
export interface StartSweepRequest {
  preset?: string;
  spec?: Record<string, unknown>;
  name?: string;
  steps?: number;
  workers?: number;
  redis?: string;
  allowLarge?: boolean;
}

export interface SweepJobsOptions {
  /** The workspace (absolute). */
  root: string;
  /** The workbench's job queue: sweeps share its slots with trainings and studies. */
  queue: JobQueue;
  emit: (e: SweepWorkbenchEvent) => void;
  backend?: BackendName;
}

export interface SweepJobs {
  list(): SweepListItem[];
  get(name: string): SweepDetails;
  presets(): SweepPresetInfo[];
  check(req: StartSweepRequest): SweepPlan;
  start(req: StartSweepRequest): { jobId: string; name: string; cells: number; workers: number };
  cancel(name: string): { cancelled: boolean };
}

/** How often (ms) a cell's progress is sent at most; its last step always is. */
const PROGRESS_EVERY_MS = 200;
/** Workers of this app's local sweeps (distributed workers will name their host:pid). */
const LOCAL_WORKER = 'local';

interface LiveCell {
  step: number;
  steps: number;
  worker: string;
  lastSent: number;
}

interface LiveSweep {
  jobId: string;
  state: 'queued' | 'running';
  spec: SweepSpec;
  cells: SweepCell[];
  live: Map<string, LiveCell>;
  cancelRequested: boolean;
  /** The placeholder jobs holding this sweep's extra queue slots. */
  slots: string[];
}

interface Resolved {
  spec: SweepSpec;
  cells: SweepCell[];
  name: string;
  dir: string;
  resumes: boolean;
}

function argError(err: unknown): ApiArgumentError {
  return err instanceof ApiArgumentError ? err : new ApiArgumentError(err instanceof Error ? err.message : String(err));
}

/** Chance of a task's headline metric, per task config (tasks are cheap to build but need not be rebuilt per call). */
const chanceCache = new Map<string, { metric: string; chance: number } | null>();
function chanceOf(config: TrainConfig): { metric: string; chance: number } | null {
  const key = canonicalJson({ task: config.task, options: config.taskOptions });
  if (!chanceCache.has(key)) {
    let v: { metric: string; chance: number } | null = null;
    try {
      const task = runTask({ config } as RunManifest);
      if (Number.isFinite(task.chance)) v = { metric: task.headlineMetric, chance: task.chance };
    } catch {
      v = null;
    }
    chanceCache.set(key, v);
  }
  return chanceCache.get(key) ?? null;
}

/** Per metric, the chance every cell agrees on (a metric whose chance differs between cells is left out). */
export function sweepChance(cells: readonly SweepCell[]): Record<string, number> {
  const seen = new Map<string, number | null>();
  for (const c of cells) {
    const ch = chanceOf(c.config);
    if (!ch) continue;
    const prev = seen.get(ch.metric);
    if (prev === undefined) seen.set(ch.metric, ch.chance);
    else if (prev !== null && Math.abs(prev - ch.chance) > 1e-12) seen.set(ch.metric, null);
  }
  return Object.fromEntries([...seen].filter((e): e is [string, number] => e[1] !== null));
}

/**
 * Starts a sweep as a job of the workbench. The one place a sweep of the app starts. With `redis` the
 * app is the coordinator of a distributed sweep (runDistributedSweep): cells train on `oocr worker`s
 * wherever they run, so the sweep holds one slot of this machine's queue, not one per cell.
 */
export function startSweepJob(ctx: SweepJobsContext, req: StartSweepRequest): { jobId: string; name: string; cells: number; workers: number } {
  const r = ctx.resolve(req);
  if (req.redis !== undefined && req.workers !== undefined) throw new ApiArgumentError('workers are for local sweeps; a distributed sweep trains on the oocr workers attached to its queue');
  const workers = req.redis !== undefined ? 1 : ctx.workersFor(r, req.workers);
  const redis = req.redis;
  const { queue, emit } = ctx.opts;
  const jobId = randomUUID();
  const runId = `${SWEEPS_DIR}/${r.name}`;
  if (ctx.live.has(r.name)) throw new ApiArgumentError(`sweep '${r.name}' is already ${ctx.live.get(r.name)?.state}; cancel it first`);
  const entry: LiveSweep = { jobId, state: 'queued', spec: r.spec, cells: r.cells, live: new Map(), cancelRequested: false, slots: [] };
  const stepsOf = new Map(r.cells.map((c) => [c.id, c.config.steps]));
  const onEvent = (e: SweepEvent): void => {
    // runSweep names the worker where it knows it (a queue worker's host:pid); local cells are this app's.
    const worker = (e as { worker?: string }).worker ?? LOCAL_WORKER;
    if (e.kind === 'cell') {
      if (e.status === 'running') entry.live.set(e.cell, { step: 0, steps: stepsOf.get(e.cell) ?? 0, worker, lastSent: 0 });
      else entry.live.delete(e.cell);
      emit({ kind: 'sweep-cell', sweep: r.name, cell: e.cell, status: e.status, done: e.done, total: e.total, worker, ...(e.error ? { error: e.error } : {}) });
      return;
    }
    if (e.event.kind !== 'progress') return;
    const c = entry.live.get(e.cell);
    if (!c) return;
    c.step = e.event.step;
    c.steps = e.event.totalSteps;
    const now = Date.now();
    if (now - c.lastSent < PROGRESS_EVERY_MS && e.event.step < e.event.totalSteps) return;
    c.lastSent = now;
    emit({ kind: 'sweep-progress', sweep: r.name, cell: e.cell, step: e.event.step, totalSteps: e.event.totalSteps, loss: e.event.loss, worker: c.worker });
  };
  ctx.live.set(r.name, entry);
  let h;
  try {
    h = queue.submit<SweepSummary | null>({
      jobId,
      runId,
      kind: 'sweep',
      onStart: () => {
        entry.state = 'running';
        emit({ kind: 'sweep-state', sweep: r.name, state: 'running' });
      },
      start: () => ({
        done:
          redis !== undefined
            ? runDistributedSweep({ spec: r.spec, outDir: r.dir, redis, allowLarge: req.allowLarge, onEvent, shouldCancel: () => entry.cancelRequested })
            : runSweep({ spec: r.spec, outDir: r.dir, workers, backend: ctx.opts.backend, allowLarge: req.allowLarge, onEvent, shouldCancel: () => entry.cancelRequested }),
        cancel: () => {
          entry.cancelRequested = true;
        },
      }),
      cancelledResult: () => null,
    });
  } catch (err) {
    ctx.live.delete(r.name);
    throw argError(err);
  }
  if (entry.state === 'queued') emit({ kind: 'sweep-state', sweep: r.name, state: 'queued' });
  const ended = h.done.then(
    () => undefined,
    () => undefined,
  );
  // The sweep's other workers each hold a slot of the queue until it ends (FIFO: behind the sweep, ahead of later jobs).
  for (let k = 2; k <= workers; k++) {
    const slot = `${jobId}:${k}`;
    try {
      queue.submit<void>({
        jobId: slot,
        runId: `${runId}#worker-${k}`,
        kind: 'sweep-worker',
        start: () => ({
          done: ended,
          cancel: () => {
            entry.cancelRequested = true;
          },
        }),
        cancelledResult: () => undefined,
      });
      entry.slots.push(slot);
    } catch {
      // A full queue: the sweep still runs, holding fewer slots.
      break;
    }
  }
  h.done.then(
    (summary) => {
      ctx.live.delete(r.name);
      for (const s of entry.slots) queue.cancel(s);
      const state = summary === null ? 'cancelled' : summary.failed > 0 ? 'failed' : summary.cancelled > 0 ? 'cancelled' : 'completed';
      emit({ kind: 'sweep-state', sweep: r.name, state, ...(summary && summary.failed > 0 ? { message: `${summary.failed} of ${summary.cells} cells failed` } : {}) });
    },
    (err: unknown) => {
      ctx.live.delete(r.name);
      for (const s of entry.slots) queue.cancel(s);
      emit({ kind: 'sweep-state', sweep: r.name, state: 'failed', message: err instanceof Error ? err.message : String(err) });
    },
  );
  return { jobId, name: r.name, cells: r.cells.length, workers };
}

/** What startSweepJob needs of the sweep manager. */
export interface SweepJobsContext {
  opts: SweepJobsOptions;
  live: Map<string, LiveSweep>;
  resolve(req: StartSweepRequest): Resolved;
  workersFor(r: Resolved, asked: number | undefined): number;
}

/** A cell's worker as sweep.json records it (distributed sweeps record `host:pid`), if any. */
function recordedWorker(c: object): string | undefined {
  const w = (c as { worker?: unknown }).worker;
  return typeof w === 'string' && w ? w : undefined;
}

function counts(cells: readonly { status: string }[]): Pick<SweepListItem, 'total' | 'completed' | 'failed' | 'running' | 'cancelled' | 'pending'> {
  const n = (s: string): number => cells.filter((c) => c.status === s).length;
  return { total: cells.length, completed: n('completed'), failed: n('failed'), running: n('running'), cancelled: n('cancelled'), pending: n('pending') };
}

export function createSweepJobs(opts: SweepJobsOptions): SweepJobs {
  const root = opts.root;
  const live = new Map<string, LiveSweep>();

  /** WORKSPACE/sweeps/<name>, checked to stay inside the workspace (symbolic links included). */
  const sweepDir = (name: string): string => {
    const parsed = SweepName.safeParse(name);
    if (!parsed.success) throw new ApiArgumentError(`'${name}': ${parsed.error.issues[0]?.message ?? 'not a sweep name'}`);
    const dir = path.join(root, SWEEPS_DIR, name);
    if (isRunFolder(path.join(root, SWEEPS_DIR))) throw new ApiArgumentError(`the workspace's '${SWEEPS_DIR}' folder is a run; sweeps cannot live inside it (move that run away)`);
    try {
      assertInsideWorkspace(dir, root, `sweep '${name}'`);
    } catch (err) {
      if (err instanceof RunFolderError) throw new ApiArgumentError(err.message);
      throw err;
    }
    return dir;
  };

  const readRecord = (dir: string): SweepRecord | null => {
    try {
      return readSweepRecord(dir);
    } catch (err) {
      throw argError(err);
    }
  };

  const resolve = (req: StartSweepRequest): Resolved => {
    let raw: unknown;
    if (req.preset !== undefined) {
      if (!Object.hasOwn(SWEEP_PRESETS, req.preset)) throw new ApiArgumentError(`unknown sweep preset '${req.preset}' (presets: ${Object.keys(SWEEP_PRESETS).join(', ')})`);
      raw = sweepPreset(req.preset);
    } else if (req.spec !== undefined) raw = req.spec;
    else throw new ApiArgumentError('give either a sweep preset or a sweep spec');
    let spec: SweepSpec;
    let cells: SweepCell[];
    try {
      spec = parseSweepSpec(raw);
      if (req.steps !== undefined) spec = { ...spec, fixed: { ...spec.fixed, steps: req.steps } };
      cells = planCells(spec, { allowLarge: req.allowLarge });
    } catch (err) {
      throw argError(err);
    }
    const name = req.name ?? spec.name;
    if (req.name === undefined && !SweepName.safeParse(name).success) {
      throw new ApiArgumentError(`the spec's name '${name}' is not a folder name (letters, digits, . _ -): give the sweep a name`);
    }
    const dir = sweepDir(name);
    const previous = readRecord(dir);
    if (previous && canonicalJson(previous.spec) !== canonicalJson(spec)) {
      throw new ApiArgumentError(`${SWEEPS_DIR}/${name} holds sweep '${previous.name}' with a different spec; start it with the same spec (and steps) to resume it, or choose another name`);
    }
    if (!previous && fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0)) {
      throw new ApiArgumentError(`${SWEEPS_DIR}/${name} exists and holds no ${SWEEP_FILE}; choose another name`);
    }
    return { spec, cells, name, dir, resumes: previous !== null };
  };

  const workersFor = (r: Resolved, asked: number | undefined): number => Math.max(1, Math.min(asked ?? opts.queue.concurrency, opts.queue.concurrency, r.cells.length));

  const ctx: SweepJobsContext = { opts, live, resolve, workersFor };

  const stateOf = (name: string): SweepJobState => live.get(name)?.state ?? 'idle';

  const presets = (): SweepPresetInfo[] => Object.keys(SWEEP_PRESETS).map((name) => {
    const spec = sweepPreset(name);
    return { name, spec: spec as SweepSpecShape, cells: cellCount(spec) };
  });

  return {
    presets,
    list() {
      const out: SweepListItem[] = [];
      const seen = new Set<string>();
      for (const dir of subdirectories(path.join(root, SWEEPS_DIR))) {
        const name = path.basename(dir);
        if (!fs.existsSync(path.join(dir, SWEEP_FILE))) continue;
        seen.add(name);
        try {
          const rec = readSweepRecord(dir) as SweepRecord;
          const entry = live.get(name);
          // A cell marked running in sweep.json whose sweep is not running here was interrupted: pending again.
          const cells = rec.cells.map((c) => ({ status: c.status === 'running' && !entry ? 'pending' : c.status }));
          out.push({ name, specName: rec.name, preset: rec.spec.preset, ...counts(cells), updatedAt: rec.updatedAt, state: stateOf(name) });
        } catch (err) {
          out.push({ name, specName: '', preset: '', total: 0, completed: 0, failed: 0, running: 0, cancelled: 0, pending: 0, updatedAt: '', state: stateOf(name), error: err instanceof Error ? err.message : String(err) });
        }
      }
      // Queued sweeps have written nothing yet.
      for (const [name, e] of live) {
        if (seen.has(name)) continue;
        out.push({ name, specName: e.spec.name, preset: e.spec.preset, ...counts(e.cells.map(() => ({ status: 'pending' }))), updatedAt: new Date().toISOString(), state: e.state });
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
    get(name) {
      const dir = sweepDir(name);
      const entry = live.get(name);
      const rec = readRecord(dir);
      if (!rec && !entry) throw new ApiArgumentError(`no sweep '${name}' in the workspace (${SWEEPS_DIR}/${name}/${SWEEP_FILE})`);
      const spec = (rec?.spec ?? entry?.spec) as SweepSpec;
      let planned: SweepCell[] = entry?.cells ?? [];
      if (!entry) {
        try {
          planned = planCells(spec, { allowLarge: true });
        } catch {
          planned = [];
        }
      }
      const stepsOf = new Map(planned.map((c) => [c.id, c.config.steps]));
      const recCells = rec?.cells ?? planned.map((c) => ({ id: c.id, values: c.values, run: `runs/${c.id}`, status: 'pending' as const }));
      const cells = recCells.map((c): SweepCellInfo => {
        const l = entry?.live.get(c.id);
        let step = 0;
        let steps = stepsOf.get(c.id) ?? 0;
        const runDir = path.join(dir, c.run);
        if (!l && fs.existsSync(path.join(runDir, RUN_FILE))) {
          try {
            const m = readManifest(runDir);
            step = m.step;
            steps = m.config.steps;
          } catch {
            // Listed without its step; Runs shows why the run cannot be read.
          }
        }
        const status = c.status === 'running' && !entry ? 'pending' : c.status;
        return {
          id: c.id,
          values: c.values,
          run: c.run,
          runId: sweepCellRunId(name, c.id),
          status,
          ...('error' in c && c.error ? { error: c.error } : {}),
          ...('metrics' in c && c.metrics ? { metrics: c.metrics } : {}),
          step: l ? l.step : step,
          steps: l ? l.steps : steps,
          // Live: who trains it now; else who trained it as sweep.json records it (a Redis worker's host:pid), else this machine.
          ...(l ? { worker: l.worker } : recordedWorker(c) ? { worker: recordedWorker(c) } : status === 'completed' || status === 'failed' || status === 'cancelled' ? { worker: LOCAL_WORKER } : {}),
        };
      });
      return {
        name,
        dir: `${SWEEPS_DIR}/${name}`,
        spec: spec as SweepSpecShape,
        createdAt: rec?.createdAt ?? '',
        updatedAt: rec?.updatedAt ?? '',
        cells,
        state: stateOf(name),
        ...(entry ? { jobId: entry.jobId } : {}),
        chance: sweepChance(planned),
        presets: presets(),
      };
    },
    check(req) {
      const r = resolve(req);
      if (req.redis !== undefined && req.workers !== undefined) throw new ApiArgumentError('workers are for local sweeps; a distributed sweep trains on the oocr workers attached to its queue');
      return { name: r.name, specName: r.spec.name, preset: r.spec.preset, cells: r.cells.length, resumes: r.resumes, workers: req.redis !== undefined ? 0 : workersFor(r, req.workers) };
    },
    start: (req) => startSweepJob(ctx, req),
    cancel(name) {
      const entry = live.get(name);
      if (!entry) {
        if (!readRecord(sweepDir(name))) throw new ApiArgumentError(`no sweep '${name}' in the workspace`);
        return { cancelled: false };
      }
      entry.cancelRequested = true;
      opts.queue.cancel(entry.jobId);
      return { cancelled: true };
    },
  };
}
