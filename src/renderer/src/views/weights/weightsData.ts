import type { OvSpectrum } from '../../../../shared/analysis';
import type { RunSummary } from '../../../../shared/api';
import {
  effectiveRank as shareRank,
  entropyEffectiveRank,
  frobeniusNorm,
  normalisedSpectrum,
  nuclearOverFrobenius,
  rankAbove,
  RANK_THRESHOLD,
} from '../../../../shared/analyses/ovSpectrum';
import { toCsv } from '../../../../shared/csv';
import { decadeDomain, positiveRange, type Domain } from '../../figure/axes';

/**
 * Pure data shaping for the Weights view: OV spectra ([step][k] singular values per head, see
 * OvSpectrum in src/shared/analysis.ts) into recharts rows of *normalised* spectra (σ_k / σ₁), scale-free
 * summaries (effective rank, threshold rank, ‖·‖_* / ‖·‖_F) and CSV with the raw values beside them.
 *
 * Why σ_k / σ₁: raw singular values depend on the parametrisation (a factorized W_O W_V and a combined
 * W_OV reach the same logits at different scales, W_Q absorbing the difference), so raw spectra and
 * nuclear norms of different runs do not compare. Dividing by σ₁ makes every spectrum start at 1 and
 * leaves only its decay; the 1%-of-σ₁ threshold is a horizontal line on that plot. Dividing by Σσ
 * instead would shift a spectrum down by its length as well as its shape (k equal values sit at 1/k);
 * that normalisation is what the entropy effective rank summarises, and it is in the CSV.
 */

/** 'factorized' | 'combined' (ModelConfig.ov); null where the run's config could not be read. */
export type OvKind = string | null;

export { EFFECTIVE_RANK_SHARE, effectiveRank, entropyEffectiveRank, RANK_THRESHOLD, rankAbove } from '../../../../shared/analyses/ovSpectrum';

/**
 * Singular values below this fraction of σ₁ are numerical zeros (the SVD runs in float64, so an exact
 * low-rank W_O W_V has a tail near 1e-14·σ₁); they are left out of log plots and of the ranks.
 */
export const NUMERICAL_ZERO = 1e-10;

/** Default runs to compare at most (the rest of a task's runs are one tick away). */
export const MAX_DEFAULT_COMPARED = 6;

export function headLabel(h: { layer: number; head: number }): string {
  return `L${h.layer}H${h.head}`;
}

/** recharts data key of head i (labels like `L0H0` are fine too, but keys stay stable). */
export function headKey(i: number): string {
  return `h${i}`;
}

/** Count of singular values above NUMERICAL_ZERO · σ₁ (the numerical rank). */
export function numericalRank(sv: readonly number[]): number {
  const s1 = sv[0] ?? 0;
  if (!(s1 > 0)) return 0;
  return sv.filter((s) => s > NUMERICAL_ZERO * s1).length;
}

/** The spectrum without its numerical zeros (below NUMERICAL_ZERO · σ₁), which would only add round-off to the summaries. */
export function drawable(sv: readonly number[]): number[] {
  const s1 = Math.max(0, ...sv);
  return s1 > 0 ? sv.filter((s) => s > NUMERICAL_ZERO * s1) : [];
}

/** Index into ascending `steps` of the checkpoint nearest `step` (ties: the earlier); -1 when empty. */
export function nearestStepIndex(steps: readonly number[], step: number): number {
  let best = -1;
  for (let i = 0; i < steps.length; i++) if (best < 0 || Math.abs(steps[i] - step) < Math.abs(steps[best] - step)) best = i;
  return best;
}

/** Ascending union of the runs' checkpoint steps (the shared step slider's stops). */
export function unionSteps(...lists: (readonly number[] | undefined)[]): number[] {
  const s = new Set<number>();
  for (const l of lists) for (const v of l ?? []) s.add(v);
  return [...s].sort((a, b) => a - b);
}

export type ChartRow = Record<string, number | null>;

/** One plotted spectrum: a head of a run at one checkpoint (raw singular values, descending). */
export interface SpectrumSeries {
  key: string;
  label: string;
  sv: readonly number[];
}

/**
 * Rows `{ index: k (1-based), <key>: σ_k / σ₁ of that series, … }` for k = 1 … the longest spectrum.
 * Numerical zeros (and values past a series' end) are null, so a log axis does not plunge to 1e-14
 * and a rank-r spectrum ends at k = r.
 */
export function shapeRows(series: readonly SpectrumSeries[]): ChartRow[] {
  const norm = series.map((s) => {
    const n = normalisedSpectrum(s.sv);
    return n.map((v) => (v > NUMERICAL_ZERO ? v : null));
  });
  const len = Math.max(0, ...series.map((s) => s.sv.length));
  const rows: ChartRow[] = [];
  for (let k = 0; k < len; k++) {
    const row: ChartRow = { index: k + 1 };
    series.forEach((s, i) => (row[s.key] = norm[i][k] ?? null));
    rows.push(row);
  }
  return rows;
}

/** Each head of `spec` at one checkpoint as a series (keys h0, h1, … unless `key` says otherwise). */
export function headSeries(spec: OvSpectrum, stepIndex: number, key: (i: number) => string = headKey, label: (h: { layer: number; head: number }) => string = headLabel): SpectrumSeries[] {
  return spec.heads.map((h, i) => ({ key: key(i), label: label(h), sv: h.singular_values[stepIndex] ?? [] }));
}

/** How many points of a series a log plot draws (non-null values). */
export function drawnPoints(rows: readonly ChartRow[], key: string): number {
  return rows.filter((r) => r[key] !== null && r[key] !== undefined).length;
}

/**
 * [lo, 1] in whole decades over the normalised spectra of every checkpoint of `specs`, so the log
 * y-axis stays put while the step slider moves. [0.01, 1] when nothing is drawable.
 */
export function shapeDomain(specs: readonly (OvSpectrum | undefined)[]): Domain {
  let lo = Infinity;
  for (const spec of specs)
    for (const h of spec?.heads ?? [])
      for (const sv of h.singular_values) {
        const r = positiveRange(normalisedSpectrum(sv).filter((v) => v > NUMERICAL_ZERO));
        if (r) lo = Math.min(lo, r[0]);
      }
  return decadeDomain(Number.isFinite(lo) ? [lo, 1] : [0.01, 1]) ?? [0.01, 1];
}

/**
 * Ticks of the log index axis 1 … n: the powers of two (1, 2, 4, … 128), and n itself when it is not
 * one and not crowding the last power (129 → …, 128; 100 → …, 64, 100).
 */
export function log2Ticks(n: number): number[] {
  const out: number[] = [];
  for (let t = 1; t <= n; t *= 2) out.push(t);
  const last = out[out.length - 1] ?? 1;
  if (n > last * 1.25) out.push(n);
  return out;
}

/** Fraction of a log axis [1, n] that the points 1 … k span: log k / log n (the r = 8 of 128 → 3/7). */
export function logSpan(k: number, n: number): number {
  return n > 1 && k >= 1 ? Math.log(k) / Math.log(n) : 0;
}

/** Scale-free summaries of one spectrum, with the raw norms for reference. */
export interface SpectrumSummary {
  /** exp(entropy of σ/Σσ), Roy & Vetterli 2007. */
  entropyRank: number;
  /** #σ_k > 1% of σ₁. */
  rank1pct: number;
  /** Smallest k holding 90% of Σσ. */
  rank90: number;
  numericalRank: number;
  /** ‖W‖_* / ‖W‖_F (1 … √rank). */
  nuclearOverFrobenius: number;
  /** Raw: depend on the parametrisation's scale. */
  sigma1: number;
  nuclear: number;
  frobenius: number;
  size: number;
}

export function summarise(sv: readonly number[]): SpectrumSummary {
  const d = drawable(sv);
  const nuclear = sv.reduce((a, b) => a + b, 0);
  return {
    entropyRank: entropyEffectiveRank(d),
    rank1pct: rankAbove(d, RANK_THRESHOLD),
    rank90: shareRank(sv, nuclear),
    numericalRank: numericalRank(sv),
    nuclearOverFrobenius: nuclearOverFrobenius(sv),
    sigma1: sv[0] ?? 0,
    nuclear,
    frobenius: frobeniusNorm(sv),
    size: sv.length,
  };
}

/** Per-head summaries at one step: the stat line under each column. */
export interface HeadStats extends SpectrumSummary {
  label: string;
}

export function headStats(spec: OvSpectrum, stepIndex: number): HeadStats[] {
  return spec.heads.map((h) => ({ label: headLabel(h), ...summarise(h.singular_values[stepIndex] ?? []) }));
}

/**
 * Rows `{ step, <key>: value, … }` of a per-checkpoint summary for several runs' heads; a series is
 * null at the steps its run has no checkpoint for.
 */
export function overTrainingRows(entries: readonly { key: string; steps: readonly number[]; sv: readonly (readonly number[])[] }[], value: (sv: readonly number[]) => number): ChartRow[] {
  const steps = unionSteps(...entries.map((e) => e.steps));
  return steps.map((step) => {
    const row: ChartRow = { step };
    for (const e of entries) {
      const j = e.steps.indexOf(step);
      const v = j >= 0 && e.sv[j] ? value(e.sv[j]) : NaN;
      row[e.key] = Number.isFinite(v) ? v : null;
    }
    return row;
  });
}

/** Every head of `spec` as an over-training entry (keys h0, h1, … unless `key` says otherwise). */
export function headEntries(spec: OvSpectrum, key: (i: number) => string = headKey): { key: string; steps: readonly number[]; sv: readonly (readonly number[])[] }[] {
  return spec.heads.map((h, i) => ({ key: key(i), steps: spec.steps, sv: h.singular_values }));
}

/** Entropy effective rank of a spectrum without its numerical zeros. */
export const entropyRankOf = (sv: readonly number[]): number => entropyEffectiveRank(drawable(sv));

/**
 * The runs compared by default: the admissible runs of the anchor run's task whose OV form is known
 * (factorized first, then combined, in list order), at most MAX_DEFAULT_COMPARED; just the anchor and
 * `other` when the task is unknown.
 */
export function defaultCompared(runs: readonly RunSummary[], ovOf: Readonly<Record<string, OvKind>>, accept: (r: RunSummary) => boolean, anchor: string | null, other: string | null = null): string[] {
  const ok = runs.filter(accept);
  const a = ok.find((r) => r.id === anchor);
  if (!a) return [];
  if (!a.task) return [...new Set([a.id, ...(other && ok.some((r) => r.id === other) ? [other] : [])])];
  const same = ok.filter((r) => r.task === a.task && (ovOf[r.id] === 'factorized' || ovOf[r.id] === 'combined'));
  const ordered = [...same.filter((r) => ovOf[r.id] === 'factorized'), ...same.filter((r) => ovOf[r.id] === 'combined')].map((r) => r.id);
  return (ordered.includes(a.id) ? ordered : [a.id, ...ordered]).slice(0, MAX_DEFAULT_COMPARED);
}

/**
 * Default runs for the two columns: the first factorized run on the left and the first combined one
 * on the right (the 2506.10887 contrast); otherwise the first two admissible runs.
 */
export function defaultColumns(runs: readonly RunSummary[], ovOf: Readonly<Record<string, OvKind>>, accept: (r: RunSummary) => boolean): [string | null, string | null] {
  const ok = runs.filter(accept).map((r) => r.id);
  const left = ok.find((id) => ovOf[id] === 'factorized') ?? ok[0] ?? null;
  const right = ok.find((id) => ovOf[id] === 'combined' && id !== left) ?? ok.find((id) => id !== left) ?? left;
  return [left, right];
}

/** The OV form in words: `factorized W_O W_V (rank ≤ 8)`, `combined W_OV`. */
export function ovKindText(spec: { ov: string; ovRank?: number }): string {
  return spec.ov === 'factorized' ? `factorized W_O W_V (rank ≤ ${spec.ovRank ?? '?'})` : spec.ov === 'combined' ? 'combined W_OV' : spec.ov;
}

/** A spectrum of one run for the CSVs. */
export interface CsvEntry {
  run: string;
  spec: OvSpectrum;
  /** Only this checkpoint (default: every one). */
  stepIndex?: number;
}

const stepIndices = (e: CsvEntry): number[] => (e.stepIndex === undefined ? e.spec.steps.map((_, j) => j) : [e.stepIndex]);

/**
 * The plotted spectra with the raw values: one row per run, step, head and index, with σ_k (raw),
 * σ_k / σ₁ (plotted) and σ_k / Σσ (the distribution the entropy effective rank is taken of).
 */
export function shapeCsv(entries: readonly CsvEntry[]): string {
  const rows: unknown[][] = [];
  for (const e of entries)
    for (const h of e.spec.heads)
      for (const j of stepIndices(e)) {
        const sv = h.singular_values[j] ?? [];
        const s1 = sv[0] ?? 0;
        const sum = sv.reduce((a, b) => a + b, 0);
        sv.forEach((v, k) => rows.push([e.run, e.spec.steps[j], h.layer, h.head, k + 1, v, s1 > 0 ? v / s1 : '', sum > 0 ? v / sum : '']));
      }
  return toCsv(['run', 'step', 'layer', 'head', 'index', 'singular_value', 'sigma_over_sigma1', 'sigma_over_sum'], rows);
}

/**
 * The summaries per run, step and head: the raw norms (nuclear_norm, frobenius_norm, sigma_1: their
 * scale depends on the parametrisation) and the scale-free ones.
 */
export function ranksCsv(entries: readonly CsvEntry[]): string {
  const rows: unknown[][] = [];
  for (const e of entries)
    for (const h of e.spec.heads)
      for (const j of stepIndices(e)) {
        const s = summarise(h.singular_values[j] ?? []);
        rows.push([e.run, e.spec.steps[j], h.layer, h.head, h.nuclear_norm[j] ?? s.nuclear, s.frobenius, s.sigma1, s.nuclearOverFrobenius, s.entropyRank, s.rank1pct, s.rank90, s.numericalRank]);
      }
  return toCsv(['run', 'step', 'layer', 'head', 'nuclear_norm', 'frobenius_norm', 'sigma_1', 'nuclear_over_frobenius', 'effective_rank_entropy', 'rank_above_1pct_sigma1', 'rank_90pct_nuclear', 'numerical_rank'], rows);
}
