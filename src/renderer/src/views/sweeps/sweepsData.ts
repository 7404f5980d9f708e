import { toCsv } from '../../../../shared/csv';
import type { SweepCellInfo, SweepWorkbenchEvent } from '../../../../shared/sweeps';
import { meanSd } from '../../../../shared/sweepsStats';

/**
 * Shaping for the Sweeps view (pure, DOM-free): which swept variable goes on x and which splits the
 * series, the figure's points (every seed) and their mean ± sd, its CSV, the cells table, and live
 * events applied to the cells.
 */

type Value = number | string | boolean;

export interface SweepAxes {
  /** The swept variable on x (a numeric one other than seed; seed itself when nothing else varies); null: none. */
  xKey: string | null;
  /** One series per value of this swept variable (other than seed and x); null: one series. */
  seriesKey: string | null;
  /** Log x: every x > 0 and max / min ≥ 8. */
  xLog: boolean;
  /** The swept variables, in the spec's key order. */
  keys: string[];
}

/** Swept keys in order of first appearance (grid keys, then keys only the list uses). */
export function sweptKeys(cells: readonly Pick<SweepCellInfo, 'values'>[]): string[] {
  const keys: string[] = [];
  for (const c of cells) for (const k of Object.keys(c.values)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

function distinct(cells: readonly Pick<SweepCellInfo, 'values'>[], key: string): Value[] {
  const out: Value[] = [];
  for (const c of cells) {
    const v = c.values[key];
    if (v !== undefined && !out.includes(v)) out.push(v);
  }
  return out;
}

/** Chooses x (the first numeric swept variable that is not the seed), the series variable, and log or linear x. */
export function chooseAxes(cells: readonly Pick<SweepCellInfo, 'values'>[]): SweepAxes {
  const keys = sweptKeys(cells);
  const numeric = (k: string) => cells.every((c) => c.values[k] === undefined || typeof c.values[k] === 'number');
  const varies = (k: string) => distinct(cells, k).length > 1;
  const xKey = keys.find((k) => k !== 'seed' && numeric(k) && varies(k)) ?? (keys.includes('seed') && numeric('seed') ? 'seed' : null);
  const seriesKey = keys.find((k) => k !== 'seed' && k !== xKey && varies(k)) ?? null;
  const xs = xKey ? (distinct(cells, xKey) as number[]) : [];
  const xLog = xs.length > 0 && xs.every((x) => x > 0) && Math.max(...xs) / Math.min(...xs) >= 8;
  return { xKey, seriesKey, xLog, keys };
}

/** One cell on the figure (a seed's dot). */
export interface SweepPoint {
  x: number;
  y: number;
  cell: string;
  runId: string;
  seed?: Value;
  /** Place among the dots at the same x of its series, centred on 0 (−0.5, 0.5 for two): drawn side by side, not on top of each other. */
  spread: number;
}

/** Mean ± sd over the cells at one x of one series (the seeds, and any other swept values). */
export interface SweepMean {
  x: number;
  mean: number;
  sd: number;
  n: number;
  /** [mean − sd, mean + sd] offsets for an error bar (recharts reads [down, up]). */
  err: [number, number];
}

export interface SweepSeries {
  /** Stable data key: `s0`, `s1`… */
  key: string;
  /** Legend text: `ovRank 8`, `preset ocr-combined`, or the metric when there is one series. */
  label: string;
  value: Value | null;
  points: SweepPoint[];
  means: SweepMean[];
}

export interface SweepFigure {
  axes: SweepAxes;
  metric: string;
  series: SweepSeries[];
  /** Cells that have a value of the metric (finished ones). */
  plotted: number;
}

const finiteMetric = (c: Pick<SweepCellInfo, 'metrics'>, metric: string): number | null => {
  const v = c.metrics?.[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/** The figure's data for `metric`: every finished cell as a dot, and per series and x the mean ± sd over them. */
export function sweepFigure(cells: readonly SweepCellInfo[], metric: string, axes: SweepAxes = chooseAxes(cells)): SweepFigure {
  const { xKey, seriesKey } = axes;
  const seriesValues: (Value | null)[] = seriesKey ? distinct(cells, seriesKey) : [null];
  let plotted = 0;
  const series = seriesValues.map((sv, i): SweepSeries => {
    const points: SweepPoint[] = [];
    for (const c of cells) {
      if (seriesKey && c.values[seriesKey] !== sv) continue;
      const y = finiteMetric(c, metric);
      const x = xKey ? c.values[xKey] : 0;
      if (y === null || typeof x !== 'number') continue;
      points.push({ x, y, cell: c.id, runId: c.runId, ...(c.values.seed !== undefined ? { seed: c.values.seed } : {}), spread: 0 });
    }
    for (const x of new Set(points.map((p) => p.x))) {
      const here = points.filter((p) => p.x === x);
      here.forEach((p, k) => (p.spread = k - (here.length - 1) / 2));
    }
    plotted += points.length;
    const xs = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
    const means = xs.map((x): SweepMean => {
      const m = meanSd(points.filter((p) => p.x === x).map((p) => p.y));
      return { x, mean: m.mean, sd: m.sd, n: m.n, err: [m.sd, m.sd] };
    });
    return { key: `s${i}`, label: seriesKey ? `${seriesKey} ${String(sv)}` : metric, value: sv, points, means };
  });
  return { axes, metric, series, plotted };
}

/** The figure as CSV: one row per cell plotted (kind `cell`) and one per mean (kind `mean`, with sd and n). */
export function sweepFigureCsv(fig: SweepFigure): string {
  const { xKey, seriesKey } = fig.axes;
  const header = ['kind', ...(seriesKey ? [seriesKey] : []), xKey ?? 'x', 'seed', fig.metric, `${fig.metric}_sd`, 'n', 'cell'];
  const rows: (string | number)[][] = [];
  for (const s of fig.series) {
    const sv = seriesKey ? [String(s.value)] : [];
    for (const p of s.points) rows.push(['cell', ...sv, p.x, p.seed === undefined ? '' : String(p.seed), p.y, '', '', p.cell]);
    for (const m of s.means) rows.push(['mean', ...sv, m.x, '', m.mean, m.sd, m.n, '']);
  }
  return toCsv(header, rows);
}

/** A log-axis domain with a little room around the extreme x values; a linear one padded by 5%. */
export function xDomain(fig: SweepFigure): [number, number] | null {
  const xs = fig.series.flatMap((s) => s.points.map((p) => p.x));
  if (!xs.length) return null;
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  if (fig.axes.xLog) return [lo / 1.4, hi * 1.4];
  const pad = hi === lo ? Math.max(1, Math.abs(hi) * 0.1) : (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** Ticks on x: every swept value when there are few, else none (the chart picks). */
export function xTicks(cells: readonly SweepCellInfo[], xKey: string | null): number[] | undefined {
  if (!xKey) return undefined;
  const xs = (distinct(cells, xKey).filter((v) => typeof v === 'number') as number[]).sort((a, b) => a - b);
  return xs.length && xs.length <= 12 ? xs : undefined;
}

/** "12 / 20", or "—" before the cell has steps. */
export function stepText(c: Pick<SweepCellInfo, 'step' | 'steps'>): string {
  return c.steps > 0 ? `${c.step} / ${c.steps}` : '—';
}

/** A metric value as shown in the table (3 decimals; — for none). */
export function metricText(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '—';
}

/** The swept values of a cell as "ovRank 8 · seed 1". */
export function valuesText(values: Readonly<Record<string, Value>>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(' · ');
}

/**
 * Applies a pushed sweep event to the cells shown (pure): a cell's status (a finished cell's metrics
 * come with the next read of the sweep), or its step and worker while it trains. Events of other sweeps
 * leave them as they are.
 */
export function applySweepEvent(cells: readonly SweepCellInfo[], sweep: string, e: SweepWorkbenchEvent): readonly SweepCellInfo[] {
  if (e.sweep !== sweep || e.kind === 'sweep-state') return cells;
  let changed = false;
  const next = cells.map((c) => {
    if (c.id !== e.cell) return c;
    changed = true;
    if (e.kind === 'sweep-cell') return { ...c, status: e.status, ...(e.worker ? { worker: e.worker } : {}), ...(e.error ? { error: e.error } : {}), ...(e.status === 'running' ? { step: 0 } : {}) };
    return { ...c, step: e.step, steps: e.totalSteps, ...(e.worker ? { worker: e.worker } : {}) };
  });
  return changed ? next : cells;
}

/** Counts for the header: "3 / 4 completed · 1 running". */
export function progressSummary(cells: readonly Pick<SweepCellInfo, 'status'>[]): string {
  const n = (s: string) => cells.filter((c) => c.status === s).length;
  const parts = [`${n('completed')} / ${cells.length} completed`];
  for (const s of ['running', 'failed', 'cancelled'] as const) if (n(s)) parts.push(`${n(s)} ${s}`);
  return parts.join(' · ');
}

/**
 * A pasted spec, parsed: the object, or the JSON error (line and column where the engine says) shown
 * under the text box before anything is sent.
 */
export function parseSpecText(text: string): { spec: Record<string, unknown> } | { error: string } {
  if (!text.trim()) return { error: 'paste a sweep spec (JSON): name, preset, grid, metrics' };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { error: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'a sweep spec is a JSON object: { "name", "preset", "grid", "metrics" }' };
  return { spec: v as Record<string, unknown> };
}

const SWEPT_LABELS: Record<string, string> = {
  ovRank: 'OV rank (W_O W_V)',
  seed: 'seed',
  steps: 'training steps',
  lr: 'learning rate',
  weightDecay: 'weight decay',
  batchSize: 'batch size',
  evalSamples: 'eval samples',
  logEvery: 'log every',
  checkpointEvery: 'checkpoint every',
};

/** The human label of a swept variable: `ovRank` → "OV rank (W_O W_V)", `taskOptions.nCities` → "nCities (task option)". */
export function sweptLabel(key: string): string {
  if (SWEPT_LABELS[key]) return SWEPT_LABELS[key];
  if (key.startsWith('taskOptions.')) return `${key.slice('taskOptions.'.length)} (task option)`;
  return key;
}
