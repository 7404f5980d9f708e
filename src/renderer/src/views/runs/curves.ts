import { toCsv } from '../../../../shared/csv';
import type { Metrics } from '../../../../shared/modelConfig';

/**
 * Step curves as plain series for recharts: loss and per-split accuracy of logged runs (Runs view)
 * and of live jobs (Train view). Colours are palette indices (the view maps them through the figure
 * theme); solid lines are the run shown, dashed ones the run it is compared with.
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
function keyed(series: Omit<CurveSeries, 'key'>[]): CurveSeries[] {
  return series.map((s, i) => ({ ...s, key: `s${i}` }));
}

/**
 * Loss and accuracy curves of a run, with a second run overlaid dashed when given. Colour follows
 * the metric (the same split has the same colour in both runs); the dash marks the compared run.
 */
export function runCurves(primary: { id: string; lines: readonly StepRecord[] }, compare?: { id: string; lines: readonly StepRecord[] } | null): CurveSet {
  const runs = compare ? [primary, compare] : [primary];
  const label = (what: string, run: { id: string }, i: number) => (compare ? `${what} · ${run.id}${i === 1 ? ' (dashed)' : ''}` : what);
  const run = (r: { id: string }) => (compare ? { run: r.id } : {});
  const loss = keyed(runs.map((r, i) => ({ label: label('loss', r, i), group: 'loss', ...run(r), colourIndex: 0, dashed: i === 1, points: lossPoints(r.lines) })));
  const keys = accKeys(runs.flatMap((r) => r.lines));
  const acc = keyed(
    runs.flatMap((r, i) =>
      keys
        .map((k, ki) => ({ label: label(k, r, i), group: k, ...run(r), colourIndex: ki, dashed: i === 1, points: metricPoints(r.lines, k) }))
        .filter((s) => s.points.length > 0),
    ),
  );
  return { loss, acc };
}

/**
 * Splits a job's curve into stages where the step goes back (a LoRA-vs-steering study trains
 * LoRA, then steering vectors, each counting from step 1). A training job is one stage.
 */
export function splitStages<T extends { step: number }>(curve: readonly T[]): T[][] {
  const stages: T[][] = [];
  let prev = -Infinity;
  for (const p of curve) {
    if (!stages.length || p.step < prev) stages.push([]);
    stages[stages.length - 1].push(p);
    prev = p.step;
  }
  return stages;
}

/** Stage names from a job's log lines of the form `stage: <name>` (a study logs one per stage). */
export function stageNames(log: readonly string[]): string[] {
  return log.flatMap((line) => {
    const m = /^stage:\s*(.+)$/.exec(line.trim());
    return m ? [m[1]] : [];
  });
}

/**
 * Curves of a live job: one loss line per stage, and the accuracy lines (one per `*_acc` key) of
 * the latest stage that logged metrics. Stages are named from `names` where given. Long curves are
 * thinned to `maxPoints` per line.
 */
export function jobCurves(curve: readonly StepRecord[], maxPoints = 600, names: readonly string[] = []): CurveSet {
  const stages = splitStages(curve);
  const many = stages.length > 1;
  const stage = (i: number) => names[i] ?? `stage ${i + 1}`;
  const loss = keyed(
    stages.map((s, i) => {
      const label = many ? `loss · ${stage(i)}` : 'loss';
      return { label, group: label, colourIndex: i, dashed: false, points: downsample(lossPoints(s), maxPoints) };
    }),
  );
  let accStage = -1;
  for (let i = stages.length - 1; i >= 0 && accStage < 0; i--) if (stages[i].some((p) => p.metrics)) accStage = i;
  const acc =
    accStage < 0
      ? []
      : keyed(
          accKeys(stages[accStage]).map((k, ki) => ({
            label: many ? `${k} · ${stage(accStage)}` : k,
            group: many ? `${k} · ${stage(accStage)}` : k,
            colourIndex: ki,
            dashed: false,
            points: downsample(metricPoints(stages[accStage], k), maxPoints),
          })),
        );
  return { loss, acc };
}

export interface LegendItem {
  label: string;
  /** Palette index of a colour entry; null for a line-style entry (which run is solid, which dashed). */
  colourIndex: number | null;
  dashed: boolean;
}

/**
 * A compact key: one entry per colour (metric), then, when two runs are compared, one per line
 * style naming its run (instead of every metric × run pair).
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

/** Whole decades around the positive finite values (a log axis needs a positive domain). */
export function logDomain(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || v <= 0) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(lo <= hi)) return [0.01, 10];
  const a = Math.floor(Math.log10(lo));
  let b = Math.ceil(Math.log10(hi));
  if (b <= a) b = a + 1;
  return [10 ** a, 10 ** b];
}

/** Powers of ten in a log domain, thinned to at most `max` ticks. */
export function logTicks([lo, hi]: [number, number], max = 8): number[] {
  const a = Math.round(Math.log10(lo));
  const b = Math.round(Math.log10(hi));
  const every = Math.max(1, Math.ceil((b - a + 1) / max));
  const ticks: number[] = [];
  for (let e = a; e <= b; e += every) ticks.push(10 ** e);
  return ticks;
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

/** Compact tick text: 1e-3, 0.01, 0.1, 1, 10, 1e+3. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-2 && a < 1e3 ? String(Number(v.toPrecision(3))) : v.toExponential(0);
}

/** Round ticks from 0 to `max` (steps of 1, 2, 2.5 or 5 × 10^k, at most `count` + 1 of them). */
export function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}
