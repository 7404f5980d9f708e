import type { OvSpectrum } from '../../../../shared/analysis';
import type { RunSummary } from '../../../../shared/api';
import { effectiveRank, nuclearCsv as sharedNuclearCsv, spectrumAtStep, spectrumCsv as sharedSpectrumCsv } from '../../../../shared/analyses/ovSpectrum';
import { positiveExtent, unionDomain } from '../../figure/axes';

/**
 * Pure data shaping for the Weights view: OV spectra ([step][k] singular values per head, see
 * OvSpectrum in src/shared/analysis.ts) into recharts rows, the spectra's extent, effective ranks and CSV
 * (axis domains and ticks: figure/axes.ts).
 */

/** 'factorized' | 'combined' (ModelConfig.ov); null where the run's config could not be read. */
export type OvKind = string | null;

export { EFFECTIVE_RANK_SHARE, effectiveRank } from '../../../../shared/analyses/ovSpectrum';

/**
 * Singular values below this fraction of σ₁ are numerical zeros (the SVD runs in float64, so an exact
 * low-rank W_O W_V has a tail near 1e-14·σ₁); they are left out of log plots.
 */
export const NUMERICAL_ZERO = 1e-10;

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

/** Index into ascending `steps` of the checkpoint nearest `step` (ties: the earlier); -1 when empty. */
export function nearestStepIndex(steps: readonly number[], step: number): number {
  let best = -1;
  for (let i = 0; i < steps.length; i++) if (best < 0 || Math.abs(steps[i] - step) < Math.abs(steps[best] - step)) best = i;
  return best;
}

/** Ascending union of the columns' checkpoint steps (the shared step slider's stops). */
export function unionSteps(...lists: (readonly number[] | undefined)[]): number[] {
  const s = new Set<number>();
  for (const l of lists) for (const v of l ?? []) s.add(v);
  return [...s].sort((a, b) => a - b);
}

export type ChartRow = Record<string, number | null>;

/**
 * Rows `{ index: k (1-based), h0: σ_k of head 0, … }` at one step, for the first `top` values (all
 * when omitted). Numerical zeros are null so a log axis does not plunge to 1e-14.
 */
export function spectrumRows(spec: OvSpectrum, stepIndex: number, top?: number): ChartRow[] {
  const perHead = spec.heads.map((h) => h.singular_values[stepIndex] ?? []);
  const n = Math.min(top ?? Infinity, Math.max(0, ...perHead.map((s) => s.length)));
  const rows: ChartRow[] = [];
  for (let k = 0; k < n; k++) {
    const row: ChartRow = { index: k + 1 };
    perHead.forEach((s, i) => {
      const v = s[k];
      row[headKey(i)] = v !== undefined && v > NUMERICAL_ZERO * (s[0] ?? 0) && v > 0 ? v : null;
    });
    rows.push(row);
  }
  return rows;
}

/** Rows `{ step, h0: ‖W_OV‖_* of head 0, … }`, one per checkpoint. */
export function nuclearRows(spec: OvSpectrum): ChartRow[] {
  return spec.steps.map((step, j) => {
    const row: ChartRow = { step };
    spec.heads.forEach((h, i) => (row[headKey(i)] = h.nuclear_norm[j] ?? null));
    return row;
  });
}

/**
 * [min, max] of the drawable singular values (non-zero, above NUMERICAL_ZERO·σ₁) over every step, so
 * the log axis stays put while the step slider moves.
 */
export function spectrumExtent(spec: OvSpectrum, top?: number): [number, number] | null {
  let ext: [number, number] | null = null;
  spec.steps.forEach((_, j) => (ext = unionDomain(ext, positiveExtent(spectrumRows(spec, j, top), 'index'))));
  return ext;
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

/** Per-head stats at one step: the stat line under each column. */
export interface HeadStats {
  label: string;
  effectiveRank: number;
  numericalRank: number;
  nuclear: number;
  top: number;
  size: number;
}

export function headStats(spec: OvSpectrum, stepIndex: number): HeadStats[] {
  return spec.heads.map((h) => {
    const sv = h.singular_values[stepIndex] ?? [];
    const nuclear = h.nuclear_norm[stepIndex] ?? sv.reduce((a, b) => a + b, 0);
    return { label: headLabel(h), effectiveRank: effectiveRank(sv, nuclear), numericalRank: numericalRank(sv), nuclear, top: sv[0] ?? 0, size: sv.length };
  });
}

/** CSV of the singular values at one step: the ov-spectrum analysis's `spectrum` table restricted to that step. */
export function spectrumCsv(run: string, spec: OvSpectrum, stepIndex: number): string {
  return sharedSpectrumCsv(spectrumAtStep({ ...spec, id: run }, stepIndex));
}

/** CSV of the nuclear norm per head and step, with the effective rank beside it (the analysis's `nuclear` table). */
export function nuclearCsv(run: string, spec: OvSpectrum): string {
  return sharedNuclearCsv({ ...spec, id: run });
}
