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
  /**
   * Line style when several runs are compared (an index into LINE_STYLES: 0 solid, 1 dashed, 2 dotted,
   * 3 dash-dot, 4 long dash); without it `dashed` decides (1 or 0).
   */
  lineStyle?: number;
  /** Drawn thin and translucent under the other lines (one seed under the seeds' mean). */
  thin?: boolean;
  /** A shaded band around the line, per step (mean ± 1 sd over seeds). */
  band?: StepBand[];
  /** Columns the CSV writes right after this series' own (the band's sd and n), labelled in full. */
  csvExtra?: { label: string; points: StepPoint[] }[];
}

export interface StepBand {
  step: number;
  lo: number;
  hi: number;
}

/** Line styles that tell compared runs apart (colour stays with the metric), cycled past the last. */
export const LINE_STYLES = ['solid', 'dashed', 'dotted', 'dash-dot', 'long dash'] as const;

/** The style index a series is drawn with. */
export function lineStyleOf(s: Pick<CurveSeries, 'lineStyle' | 'dashed'>): number {
  return s.lineStyle ?? (s.dashed ? 1 : 0);
}

/** Name of a style index (cycling past the last). */
export function lineStyleName(style: number): string {
  return LINE_STYLES[((style % LINE_STYLES.length) + LINE_STYLES.length) % LINE_STYLES.length];
}

/** SVG stroke-dasharray of a style at a font size (the dashed style is the one the charts always drew); undefined for solid. */
export function dashArray(style: number, fontSize: number): string | undefined {
  const u = (k: number) => Number((fontSize * k).toFixed(2));
  switch (lineStyleName(style)) {
    case 'dashed':
      return `${fontSize * 0.5} ${fontSize * 0.33}`;
    case 'dotted':
      return `${u(0.12)} ${u(0.28)}`;
    case 'dash-dot':
      return `${u(0.6)} ${u(0.25)} ${u(0.12)} ${u(0.25)}`;
    case 'long dash':
      return `${u(1.1)} ${u(0.4)}`;
    default:
      return undefined;
  }
}

/** Data keys of a series' band bounds in the merged rows. */
export const bandKeys = (key: string): { lo: string; hi: string } => ({ lo: `${key}_lo`, hi: `${key}_hi` });

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
  /** A line-style entry's style index, when its series set one (several compared runs). */
  lineStyle?: number;
  /** The entry for the thin per-seed lines. */
  thin?: boolean;
  /** The entry for the shaded ± 1 sd band. */
  band?: boolean;
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
  const runs = new Map<string, CurveSeries>();
  for (const s of series) if (s.run !== undefined && !s.thin && !runs.has(s.run)) runs.set(s.run, s);
  const thin = [...new Set(series.filter((s) => s.thin && s.run !== undefined).map((s) => s.run as string))];
  const banded = series.some((s) => (s.band?.length ?? 0) > 0);
  if (runs.size > 1 || thin.length > 0 || banded)
    for (const [run, s] of runs) {
      const style = lineStyleOf(s);
      out.push({ label: `${run} (${lineStyleName(style)})`, colourIndex: null, dashed: style > 0, ...(s.lineStyle !== undefined ? { lineStyle: s.lineStyle } : {}) });
    }
  if (banded) out.push({ label: '± 1 sd (band)', colourIndex: null, dashed: false, band: true });
  if (thin.length) out.push({ label: `${thin.join(', ')} (thin)`, colourIndex: null, dashed: false, thin: true });
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
    if (!s.band) continue;
    const k = bandKeys(s.key);
    for (const b of s.band) {
      let row = byStep.get(b.step);
      if (!row) byStep.set(b.step, (row = { step: b.step } as CurveRow));
      row[k.lo] = b.lo;
      row[k.hi] = b.hi;
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

/**
 * Every plotted value of the series (for domains), with the bands' upper bounds; their lower bounds
 * are left out (mean − sd of a loss may be ≤ 0, off a log axis: the chart clips the band there).
 */
export function seriesValues(series: readonly CurveSeries[]): number[] {
  return series.flatMap((s) => [...s.points.map((p) => p.value), ...(s.band ?? []).map((b) => b.hi)]);
}

/** The plotted data as CSV: a step column, then one column per series (empty where not measured). */
export function curvesCsv(series: readonly CurveSeries[]): string {
  const rows = mergeSeries(series);
  const extra = series.map((s) => (s.csvExtra ?? []).map((c) => ({ label: c.label, at: new Map(c.points.map((p) => [p.step, p.value])) })));
  return toCsv(
    ['step', ...series.flatMap((s, i) => [s.label, ...extra[i].map((c) => c.label)])],
    rows.map((r) => [r.step, ...series.flatMap((s, i) => [r[s.key] ?? '', ...extra[i].map((c) => c.at.get(r.step) ?? '')])]),
  );
}
