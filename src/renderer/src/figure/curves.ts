import { toCsv } from '../../../shared/csv';
import type { Metrics } from '../../../shared/modelConfig';

/**
 * Step curves as plain series for recharts (what StepChart draws): the series model, merging into
 * rows, the compact legend and CSV, and the building blocks for curves of training logs (loss and
 * `*_acc` metrics per step) that the Runs and Train views shape their series from. Colours are
 * palette indices (the chart maps them through the figure theme).
 */

/** Anything with a step, a loss and maybe metrics: MetricsLine, CurvePoint. */
export interface StepRecord {
  step: number;
  loss: number;
  metrics?: Metrics;
}

export interface StepPoint {
  step: number;
  value: number;
}

export interface CurveSeries {
  /** Data key in the merged rows: `s0`, `s1`… (recharts reads dots in keys as paths, so no names). */
  key: string;
  /** Full name (tooltip, CSV column): metric and, when runs are compared, run. */
  label: string;
  /** What the colour stands for (the metric): one legend entry per group. */
  group: string;
  /** The run drawn, when two runs are compared (its line style is a legend entry). */
  run?: string;
  colourIndex: number;
  dashed: boolean;
  points: StepPoint[];
}

/** One row per step; a series missing at that step has no property there. */
export type CurveRow = { step: number } & { [key: string]: number };

export interface CurveSet {
  loss: CurveSeries[];
  acc: CurveSeries[];
}

export const isAccKey = (k: string): boolean => k.endsWith('_acc');

/** Accuracy metric keys (`*_acc`) in order of first appearance over the records. */
export function accKeys(records: readonly { metrics?: Metrics }[]): string[] {
  const seen = new Set<string>();
  for (const r of records) for (const k of Object.keys(r.metrics ?? {})) if (isAccKey(k)) seen.add(k);
  return [...seen];
}

/** Loss points; on a log axis (positiveOnly) zero and negative losses are left out. */
export function lossPoints(records: readonly StepRecord[], positiveOnly = true): StepPoint[] {
  return records.filter((r) => Number.isFinite(r.loss) && (!positiveOnly || r.loss > 0)).map((r) => ({ step: r.step, value: r.loss }));
}

/** The points where `key` was measured (records without metrics are skipped). */
export function metricPoints(records: readonly StepRecord[], key: string): StepPoint[] {
  const out: StepPoint[] = [];
  for (const r of records) {
    const v = r.metrics?.[key];
    if (v !== undefined && Number.isFinite(v)) out.push({ step: r.step, value: v });
  }
  return out;
}

/** Gives series their data keys (s0, s1, …) in order. */
export function keySeries(series: Omit<CurveSeries, 'key'>[]): CurveSeries[] {
  return series.map((s, i) => ({ ...s, key: `s${i}` }));
}

export interface LegendItem {
  label: string;
  /** Palette index of a colour entry; null for a line-style entry (which run is solid, which dashed). */
  colourIndex: number | null;
  dashed: boolean;
}

/**
 * A compact key: one entry per colour (metric), then, when two runs are compared, one per line
 * style naming its run (instead of every metric × run pair). Labels are the series' groups (internal
 * names); the charts show them through humanLabel, the CSV keeps them.
 */
export function legendItems(series: readonly CurveSeries[]): LegendItem[] {
  const out: LegendItem[] = [];
  const seen = new Set<string>();
  for (const s of series) {
    const k = `${s.colourIndex}|${s.group}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ label: s.group, colourIndex: s.colourIndex, dashed: false });
  }
  const runs = new Map<string, boolean>();
  for (const s of series) if (s.run !== undefined && !runs.has(s.run)) runs.set(s.run, s.dashed);
  if (runs.size > 1) for (const [run, dashed] of runs) out.push({ label: `${run} (${dashed ? 'dashed' : 'solid'})`, colourIndex: null, dashed });
  return out;
}

/** At most `max` items, evenly spaced, always keeping the first and the last. */
export function downsample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return items.slice();
  if (max < 2) return items.slice(-Math.max(0, max));
  const out: T[] = [];
  const stride = (items.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(items[Math.round(i * stride)]);
  return out;
}

/** Series merged into rows by step, ascending (what recharts' LineChart `data` takes). */
export function mergeSeries(series: readonly CurveSeries[]): CurveRow[] {
  const byStep = new Map<number, CurveRow>();
  for (const s of series) {
    for (const p of s.points) {
      let row = byStep.get(p.step);
      if (!row) byStep.set(p.step, (row = { step: p.step } as CurveRow));
      row[s.key] = p.value;
    }
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** [first, last] step over every point of the series, or null when there are none. */
export function stepExtent(series: readonly CurveSeries[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series)
    for (const p of s.points) {
      lo = Math.min(lo, p.step);
      hi = Math.max(hi, p.step);
    }
  return lo <= hi ? [lo, hi] : null;
}

/** Every plotted value of the series (for domains). */
export function seriesValues(series: readonly CurveSeries[]): number[] {
  return series.flatMap((s) => s.points.map((p) => p.value));
}

/** The plotted data as CSV: a step column, then one column per series (empty where not measured). */
export function curvesCsv(series: readonly CurveSeries[]): string {
  const rows = mergeSeries(series);
  return toCsv(
    ['step', ...series.map((s) => s.label)],
    rows.map((r) => [r.step, ...series.map((s) => r[s.key] ?? '')]),
  );
}
