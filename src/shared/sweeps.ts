import { z } from 'zod';

/**
 * Sweeps in the app (issue 14, docs/sweeps.md#in-the-app): the shapes the workbench API answers with,
 * the events a running sweep pushes, and the checks of their arguments. Plain data only; the spec
 * itself is validated in core (src/core/sweeps/sweepSpec.ts), never here, so the renderer does not pull
 * in the presets and the training code.
 */

/** Where a workspace keeps its sweeps: WORKSPACE/sweeps/<name>/ (sweep.json, results.csv, runs/<cell>/). */
export const SWEEPS_DIR = 'sweeps';

export type SweepCellStatus = 'pending' | 'running' | 'completed' | 'cancelled' | 'failed';
export type SweepValue = number | string | boolean;

/** A sweep's folder name: one folder name of letters, digits, . _ -, not starting with a dot. */
export const SweepName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/, 'a sweep name is one folder name of letters, digits, . _ - (no /), not starting with a dot');

/** A Redis server for distributed sweeps: redis://HOST:PORT or rediss://… (TLS). */
export const RedisUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    if (!/^rediss?:\/\/\S+$/.test(s)) return false;
    try {
      return new URL(s).hostname !== '';
    } catch {
      return false;
    }
  }, 'give a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');

/** A spec as the caller sends it: a JSON object, checked in full by core (parseSweepSpec, planCells). */
export const SweepSpecArg = z
  .record(z.string().max(200), z.unknown())
  .refine((o) => JSON.stringify(o).length <= 256 * 1024, 'a sweep spec is at most 256 KiB of JSON');

const StartSweepFields = {
  /** A shipped sweep (SWEEP_PRESETS: rank-sweep, smoke, …). */
  preset: z.string().min(1).max(100).optional(),
  /** A full spec (name, preset, grid, list, fixed, metrics). */
  spec: SweepSpecArg.optional(),
  /** The sweep's folder under sweeps/ (default: the spec's name). */
  name: SweepName.optional(),
  /** Training steps of every cell (set as `fixed.steps`): a shortened sweep. */
  steps: z.number().int().min(1).max(1_000_000).optional(),
  /** Cells trained at once (default: the job queue's concurrency). */
  workers: z.number().int().min(1).max(64).optional(),
  /** Distributed mode: the Redis server the sweep's cells are queued on (BullMQ). */
  redis: RedisUrl.optional(),
  /** Allow more than 1,000 cells (the CLI's --yes): a typo in a grid should not start a week of training. */
  allowLarge: z.boolean().optional(),
};

function oneSource(a: { preset?: string; spec?: unknown }): boolean {
  return (a.preset === undefined) !== (a.spec === undefined);
}

export const StartSweepArgs = z.object(StartSweepFields).strict().refine(oneSource, 'give either `preset` (a shipped sweep) or `spec` (a sweep spec object), not both');

/** A cell as the app shows it: sweep.json's record with its run id, progress and worker. */
export interface SweepCellInfo {
  id: string;
  values: Record<string, SweepValue>;
  /** The run folder relative to the sweep folder (runs/<cell>). */
  run: string;
  /** The run's id in the workspace (sweeps/<name>/runs/<cell>): what getRun, analyze and the views take. */
  runId: string;
  status: SweepCellStatus;
  error?: string;
  metrics?: Record<string, number | null>;
  /** Steps trained so far (live while running; run.json's otherwise; 0 before it starts). */
  step: number;
  /** Steps the cell trains for. */
  steps: number;
  /** Who trains (or trained) the cell: 'local' (a worker thread of this app), later a Redis worker's host:pid. */
  worker?: string;
}

/** One sweep in the list of the workspace's sweeps. */
export interface SweepListItem {
  /** Its folder under sweeps/. */
  name: string;
  /** The spec's name. */
  specName: string;
  /** The training preset its cells train. */
  preset: string;
  total: number;
  completed: number;
  failed: number;
  running: number;
  cancelled: number;
  pending: number;
  updatedAt: string;
  /** This app's job for it: queued (waiting for a slot), running; idle when none. */
  state: SweepJobState;
  /** Set when sweep.json cannot be read; listed anyway. */
  error?: string;
}

export type SweepJobState = 'queued' | 'running' | 'idle';

/** A shipped sweep (`oocr sweep --preset NAME`) with its spec. */
export interface SweepPresetInfo {
  name: string;
  spec: SweepSpecShape;
  cells: number;
}

/** The spec as sweep.json records it (src/core/sweeps/sweepSpec.ts SweepSpec). */
export interface SweepSpecShape {
  name: string;
  preset: string;
  grid: Record<string, SweepValue[]>;
  list?: Record<string, SweepValue>[];
  fixed?: Record<string, SweepValue>;
  metrics: string[];
}

export interface SweepDetails {
  name: string;
  /** The sweep folder relative to the workspace (sweeps/<name>). */
  dir: string;
  spec: SweepSpecShape;
  createdAt: string;
  updatedAt: string;
  cells: SweepCellInfo[];
  state: SweepJobState;
  jobId?: string;
  /**
   * Chance level per metric where the cells' task says it (its headline metric, e.g. test_impl_acc of
   * ocr-recall: 1/nCities) and every cell agrees; a metric whose chance varies across cells is absent.
   */
  chance: Record<string, number>;
  presets: SweepPresetInfo[];
}

/** What checkSweep (and startSweep) make of their arguments. */
export interface SweepPlan {
  name: string;
  specName: string;
  preset: string;
  cells: number;
  /** The sweep folder holds this sweep already: starting it resumes (finished cells are not re-run). */
  resumes: boolean;
  /** Cells trained at once on this machine; 0 for a distributed sweep (they train on the queue's oocr workers). */
  workers: number;
}

/** Pushed while sweeps run (on the same event stream as training jobs; no jobId, so job lists ignore them). */
export type SweepWorkbenchEvent =
  | { kind: 'sweep-state'; sweep: string; state: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled'; message?: string }
  | { kind: 'sweep-cell'; sweep: string; cell: string; status: SweepCellStatus; done: number; total: number; error?: string; worker?: string }
  | { kind: 'sweep-progress'; sweep: string; cell: string; step: number; totalSteps: number; loss: number; worker?: string };

/**
 * A sweep cell's run id, `sweeps/<name>/runs/<cell>`, taken apart; null for any other id. Runs groups
 * rows by it.
 */
export function sweepOfRunId(id: string): { sweep: string; cell: string } | null {
  const m = /^sweeps\/([^/]+)\/runs\/([^/]+)$/.exec(id);
  return m ? { sweep: m[1], cell: m[2] } : null;
}

/** The run id of cell `cell` of sweep `sweep`. */
export function sweepCellRunId(sweep: string, cell: string): string {
  return `${SWEEPS_DIR}/${sweep}/runs/${cell}`;
}
