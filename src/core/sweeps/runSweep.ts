import fs from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../../shared/backend';
import { toCsv } from '../../shared/csv';
import type { JobEvent } from '../../shared/progress';
import { writeFileAtomicSync } from '../io/atomicWrite';
import { effectiveStatus, readManifest, RUN_FILE } from '../io/runStore';
import { createJobQueue, defaultConcurrency } from '../jobs/jobQueue';
import { startJob, type JobOutcome } from '../jobs/jobRunner';
import { planCells, type CellValues, type SweepCell, type SweepSpec } from './sweepSpec';
import { canonicalJson } from '../../shared/canonicalJson';
import { randomUUID } from 'node:crypto';
import { READ_LIMITS, readRegularTextSync } from '../io/safeFs';

export const SWEEP_FILE = 'sweep.json';
export const RESULTS_FILE = 'results.csv';
export const RUNS_DIR = 'runs';

export type CellStatus = 'pending' | 'running' | 'completed' | 'cancelled' | 'failed';

export interface SweepCellRecord {
  id: string;
  values: CellValues;
  /** The cell's run folder, relative to the sweep folder. */
  run: string;
  status: CellStatus;
  error?: string;
  /** The run's final metrics named in the spec (null: the run did not report it). */
  metrics?: Record<string, number | null>;
  /** Who trained it last: `local` or a queue worker's `host:pid`. */
  worker?: string;
}

/** DIR/sweep.json. */
export interface SweepRecord {
  format: 'oocr-sweep/1';
  /** Unique per sweep folder (absent in sweeps written before distributed mode; added on resume). */
  id?: string;
  name: string;
  spec: SweepSpec;
  createdAt: string;
  updatedAt: string;
  cells: SweepCellRecord[];
}

export type SweepEvent =
  | { kind: 'cell'; cell: string; status: CellStatus; done: number; total: number; error?: string; worker?: string }
  | { kind: 'job'; cell: string; event: JobEvent; worker?: string };

export interface RunSweepOptions {
  spec: SweepSpec;
  /** The sweep folder: sweep.json, results.csv, runs/<cell>/. */
  outDir: string;
  /** Cells trained at once (default: defaultConcurrency(), one per core within memory). */
  workers?: number;
  backend?: BackendName;
  onEvent?: (e: SweepEvent) => void;
  /** Polled a few times a second and after each job event: true cancels the queued cells and stops the running ones after their current step. */
  shouldCancel?: () => boolean;
  /** Recorded in each run.json's versions. */
  versions?: Record<string, string>;
  /** Allow more than LARGE_SWEEP_CELLS cells (`--yes`). */
  allowLarge?: boolean;
}

export interface SweepSummary {
  dir: string;
  cells: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Cells already completed before this call (not re-run). */
  skipped: number;
  results: string;
}

/** Reads DIR/sweep.json, or null when there is none. */
export function readSweepRecord(dir: string): SweepRecord | null {
  const file = path.join(dir, SWEEP_FILE);
  if (!fs.existsSync(file)) return null;
  try {
    // Through safeFs like every other workspace file: a FIFO or device named sweep.json is refused, not waited on.
    return JSON.parse(readRegularTextSync(file, READ_LIMITS.json)) as SweepRecord;
  } catch (err) {
    throw new Error(`${file}: not a readable sweep record (${(err as Error).message})`);
  }
}

/** results.csv: cell, the swept values, status, the spec's metrics, run folder. */
export function resultsCsv(record: SweepRecord): string {
  const keys: string[] = [];
  for (const c of record.cells) for (const k of Object.keys(c.values)) if (!keys.includes(k)) keys.push(k);
  const header = ['cell', ...keys, 'status', ...record.spec.metrics, 'run'];
  const rows = record.cells.map((c) => [c.id, ...keys.map((k) => c.values[k]), c.status, ...record.spec.metrics.map((m) => c.metrics?.[m] ?? ''), c.run]);
  return toCsv(header, rows);
}

export function pickMetrics(spec: SweepSpec, finalMetrics: Record<string, number> | undefined): Record<string, number | null> {
  return Object.fromEntries(spec.metrics.map((m) => [m, finalMetrics?.[m] ?? null]));
}

/** A sweep folder opened for running: its record (sweep.json), what is left to run, and how to save. */
export interface OpenSweep {
  dir: string;
  record: SweepRecord;
  byId: Map<string, SweepCellRecord>;
  cells: SweepCell[];
  /** Cells to run: `resume` when their run folder exists (stopped, cancelled, failed or interrupted). */
  todo: { cell: SweepCell; resume: boolean }[];
  /** Cells already completed (never re-run). */
  skipped: number;
  /** Rewrites sweep.json and results.csv atomically. */
  save: () => void;
}

/**
 * Opens (creates or resumes) a sweep folder: checks the spec against a previous sweep.json, and reads
 * what each cell's run folder says now: completed (skip), stopped (resume), absent (start). Shared by
 * the local and the distributed runners, so both resume the same way.
 */
export function openSweep(spec: SweepSpec, outDir: string, opts: { allowLarge?: boolean } = {}): OpenSweep {
  const dir = path.resolve(outDir);
  const cells = planCells(spec, opts);
  const previous = readSweepRecord(dir);
  if (previous && canonicalJson(previous.spec) !== canonicalJson(spec)) {
    throw new Error(`${dir} holds sweep '${previous.name}' with a different spec; resume it with the same spec, or choose another --out`);
  }
  if (!previous && fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new Error(`${dir} is not empty and holds no ${SWEEP_FILE}; choose an empty or new folder`);
  }
  fs.mkdirSync(path.join(dir, RUNS_DIR), { recursive: true });

  const now = new Date().toISOString();
  const before = new Map((previous?.cells ?? []).map((c) => [c.id, c]));
  const record: SweepRecord = {
    format: 'oocr-sweep/1',
    // The id names this sweep's jobs on a shared queue; kept across resumes so they are found again.
    id: previous?.id ?? randomUUID(),
    name: spec.name,
    spec,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
    cells: cells.map((c) => {
      const worker = before.get(c.id)?.worker;
      return { id: c.id, values: c.values, run: `${RUNS_DIR}/${c.id}`, status: 'pending', ...(worker ? { worker } : {}) };
    }),
  };
  const byId = new Map(record.cells.map((c) => [c.id, c]));
  const save = (): void => {
    record.updatedAt = new Date().toISOString();
    writeFileAtomicSync(path.join(dir, SWEEP_FILE), `${JSON.stringify(record, null, 2)}\n`);
    writeFileAtomicSync(path.join(dir, RESULTS_FILE), resultsCsv(record));
  };

  const todo: { cell: SweepCell; resume: boolean }[] = [];
  let skipped = 0;
  for (const cell of cells) {
    const rec = byId.get(cell.id) as SweepCellRecord;
    const runDir = path.join(dir, rec.run);
    if (!fs.existsSync(path.join(runDir, RUN_FILE))) {
      todo.push({ cell, resume: false });
      continue;
    }
    const manifest = readManifest(runDir);
    const status = effectiveStatus(runDir, manifest);
    if (status === 'completed') {
      rec.status = 'completed';
      rec.metrics = pickMetrics(spec, manifest.finalMetrics);
      skipped += 1;
    } else if (status === 'running') {
      throw new Error(`cell ${cell.id}: ${runDir} is being trained by another live process; stop it first`);
    } else {
      rec.status = status === 'interrupted' ? 'pending' : status;
      todo.push({ cell, resume: true });
    }
  }
  save();
  return { dir, record, byId, cells, todo, skipped, save };
}

/** The summary of a sweep from its record once a runner has finished with it. */
export function summarize(open: OpenSweep): SweepSummary {
  const { record } = open;
  const count = (s: CellStatus): number => record.cells.filter((c) => c.status === s).length;
  const total = record.cells.length;
  return {
    dir: open.dir,
    cells: total,
    completed: count('completed'),
    failed: count('failed'),
    cancelled: total - count('completed') - count('failed'),
    skipped: open.skipped,
    results: path.join(open.dir, RESULTS_FILE),
  };
}

/**
 * Runs (or resumes) a sweep in local worker threads: every cell is a training job through the job
 * queue, `workers` at a time. Completed cells (run.json says so) are never re-run; cancelled, failed
 * and interrupted ones continue from their last checkpoint; missing ones start. sweep.json and
 * results.csv are rewritten atomically whenever a cell changes state.
 */
export async function runSweep(opts: RunSweepOptions): Promise<SweepSummary> {
  const { spec } = opts;
  const open = openSweep(spec, opts.outDir, { allowLarge: opts.allowLarge });
  const { dir, byId, cells, todo, skipped, save } = open;

  const total = cells.length;
  let done = skipped;
  const emit = (e: SweepEvent): void => opts.onEvent?.(e);
  const queue = createJobQueue({ concurrency: opts.workers ?? defaultConcurrency(), maxQueued: Number.MAX_SAFE_INTEGER });
  let cancelled = false;
  const checkCancel = (): void => {
    if (!cancelled && opts.shouldCancel?.()) {
      cancelled = true;
      for (const j of queue.list()) queue.cancel(j.jobId);
    }
  };
  // Polled on a timer and after every job event, so a cancel lands within a step or two.
  const poll = opts.shouldCancel ? setInterval(checkCancel, 200) : undefined;

  try {
    await Promise.all(
      todo.map(async ({ cell, resume }) => {
        const rec = byId.get(cell.id) as SweepCellRecord;
        const runDir = path.join(dir, rec.run);
        const handle = queue.submit<JobOutcome<'train'> | null>({
          jobId: cell.id,
          runId: rec.run,
          kind: 'train',
          onStart: () => {
            rec.status = 'running';
            rec.worker = 'local';
            delete rec.error;
            save();
            emit({ kind: 'cell', cell: cell.id, status: 'running', done, total, worker: 'local' });
          },
          start: () =>
            startJob(
              {
                kind: 'train',
                backend: opts.backend,
                train: { config: cell.config, preset: cell.preset, outDir: runDir, ...(opts.versions ? { versions: opts.versions } : {}), ...(resume ? { resume: true } : {}) },
              },
              (event) => {
                emit({ kind: 'job', cell: cell.id, event });
                checkCancel();
              },
            ),
          cancelledResult: () => null,
        });
        try {
          const r = await handle.done;
          if (r === null || r.status === 'cancelled') {
            // Cancelled while queued keeps the earlier status (a never-started cell stays pending).
            if (r !== null) rec.status = 'cancelled';
          } else {
            rec.status = 'completed';
            rec.metrics = pickMetrics(spec, r.finalMetrics);
            done += 1;
          }
        } catch (err) {
          rec.status = 'failed';
          rec.error = err instanceof Error ? err.message : String(err);
        }
        save();
        emit({ kind: 'cell', cell: cell.id, status: rec.status, done, total, ...(rec.error ? { error: rec.error } : {}) });
      }),
    );
  } finally {
    if (poll) clearInterval(poll);
  }

  return summarize(open);
}
