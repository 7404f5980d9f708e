import type { LoraVsSteeringAnalysis } from '../../../../shared/analysis';
import type { StudySummary } from '../../../../shared/api';
import { toCsv } from '../../../../shared/csv';

/**
 * Pure data shaping for the LoRA-vs-steering view (arXiv 2507.08218 reproduced on a small model):
 * the study record (LoraVsSteeringAnalysis, src/shared/analysis.ts) into heatmap specs, bar rows and CSV.
 */

type Study = LoraVsSteeringAnalysis;

// ─── (a) |cos| between per-token LoRA deltas ──────────────────────────────────────────────────────

export interface CosMatrix {
  values: number[][];
  /** Row labels: `T3 codename_0@2` = the 3rd training-prompt token, codename_0 at position 2 (U: unrelated). */
  rowLabels: string[];
  /** Column labels: just the ids (`T3`, `U5`), so 48 columns stay legible. */
  colLabels: string[];
  /** The full labels (`train:…`, `unrelated:…`) for CSV and the hover readout. */
  fullLabels: string[];
  /** Index of the first unrelated-text token (= number of training-prompt tokens). */
  split: number;
}

/** The token group of a cos-matrix label (`train:city_4@4` → train). */
export function labelGroup(label: string): string {
  const i = label.indexOf(':');
  return i < 0 ? '' : label.slice(0, i);
}

/** `train:city_4@4` → `city_4@4`. */
export function shortLabel(label: string): string {
  const i = label.indexOf(':');
  return i < 0 ? label : label.slice(i + 1);
}

/**
 * The display sample of the |cos| matrix with its train/unrelated split: the first label not in the
 * first label's group (the record puts training-prompt tokens first), or half the size when labels
 * carry no group. Ids count within each half: T1…T24, U1…U24.
 */
export function cosMatrix(study: Study): CosMatrix {
  const { labels, values } = study.cos_matrix;
  const g0 = labelGroup(labels[0] ?? '');
  let split = g0 ? labels.findIndex((l) => labelGroup(l) !== g0) : -1;
  if (split < 0) split = g0 ? labels.length : Math.floor(labels.length / 2);
  const ids = labels.map((_, i) => (i < split ? `T${i + 1}` : `U${i - split + 1}`));
  return { values, rowLabels: labels.map((l, i) => `${ids[i]} ${shortLabel(l)}`), colLabels: ids, fullLabels: labels, split };
}

/** Mean of the off-diagonal entries inside each block (train×train, unrelated×unrelated, across). */
export function blockMeans(m: CosMatrix): { train: number; unrelated: number; across: number } {
  const acc = { train: [0, 0], unrelated: [0, 0], across: [0, 0] };
  m.values.forEach((row, i) =>
    row.forEach((v, j) => {
      if (i === j || !Number.isFinite(v)) return;
      const k = i < m.split && j < m.split ? 'train' : i >= m.split && j >= m.split ? 'unrelated' : 'across';
      acc[k][0] += v;
      acc[k][1] += 1;
    }),
  );
  const mean = ([s, n]: number[]) => (n ? s / n : NaN);
  return { train: mean(acc.train), unrelated: mean(acc.unrelated), across: mean(acc.across) };
}

export function cosCsv(m: CosMatrix): string {
  const rows: unknown[][] = [];
  m.values.forEach((row, i) => row.forEach((v, j) => rows.push([i, m.fullLabels[i], j, m.fullLabels[j], v])));
  return toCsv(['row', 'row_token', 'col', 'col_token', 'abs_cos'], rows);
}

// ─── (b) Variance along PC1 ───────────────────────────────────────────────────────────────────────

export const DELTA_GROUPS = ['train', 'unrelated', 'all'] as const;
export type DeltaGroup = (typeof DELTA_GROUPS)[number];

export const DELTA_GROUP_LABELS: Record<DeltaGroup, string> = { train: 'training prompts', unrelated: 'unrelated text', all: 'all tokens' };

export interface Pc1Row {
  group: string;
  pc1: number;
  pc1Centred: number;
  meanAbsCos: number;
  nTokens: number;
  meanNorm: number;
  [key: string]: string | number;
}

export const PC1_SERIES = [
  { key: 'pc1', label: 'PC1 share (uncentred)' },
  { key: 'pc1Centred', label: 'PC1 share (centred)' },
  { key: 'meanAbsCos', label: 'mean |cos|' },
] as const;

export function pc1Rows(study: Study): Pc1Row[] {
  return DELTA_GROUPS.map((g) => {
    const d = study.deltas[g];
    return { group: DELTA_GROUP_LABELS[g], pc1: d.pc1VarRatio, pc1Centred: d.pc1VarRatioCentred, meanAbsCos: d.meanAbsCos, nTokens: d.nTokens, meanNorm: d.meanNorm };
  });
}

export function pc1Csv(study: Study): string {
  return toCsv(
    ['tokens', 'n_tokens', 'pc1_var_ratio_uncentred', 'pc1_var_ratio_centred', 'mean_abs_cos', 'mean_norm', 'cos_pc1_mean'],
    DELTA_GROUPS.map((g) => {
      const d = study.deltas[g];
      return [g, d.nTokens, d.pc1VarRatio, d.pc1VarRatioCentred, d.meanAbsCos, d.meanNorm, d.cosPc1Mean];
    }),
  );
}

// ─── (c) Trained vs natural steering vector ───────────────────────────────────────────────────────

export interface NamedValue {
  name: string;
  value: number;
  [key: string]: string | number;
}

export function steeringCosRows(study: Study): NamedValue[] {
  return [
    { name: 'trained vs natural', value: study.cos_trained_vs_natural },
    { name: 'trained: seed 1 vs 2', value: study.cos_trained_across_seeds },
  ];
}

export function normRows(study: Study): NamedValue[] {
  return [
    { name: 'natural (PC1 × mean ‖Δ‖)', value: study.norms.natural_sv },
    { name: 'trained, seed 1', value: study.norms.trained_sv },
    { name: 'trained, seed 2', value: study.norms.trained_sv_seed2 },
  ];
}

export function steeringCsv(study: Study): string {
  return toCsv(
    ['quantity', 'value'],
    [
      ['cos_trained_vs_natural', study.cos_trained_vs_natural],
      ['cos_trained_across_seeds', study.cos_trained_across_seeds],
      ['norm_natural_sv', study.norms.natural_sv],
      ['norm_trained_sv', study.norms.trained_sv],
      ['norm_trained_sv_seed2', study.norms.trained_sv_seed2],
      ['lora_mean_delta_norm_all', study.deltas.all.meanNorm],
    ],
  );
}

// ─── (d) Held-out accuracy ────────────────────────────────────────────────────────────────────────

export const METHODS = ['base', 'lora', 'natural_sv', 'trained_sv'] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Record<Method, string> = { base: 'base', lora: 'LoRA', natural_sv: 'natural steering', trained_sv: 'trained steering' };

export interface AccRow {
  measure: string;
  base: number;
  lora: number;
  natural_sv: number;
  trained_sv: number;
  [key: string]: string | number;
}

export function accuracyRows(study: Study): AccRow[] {
  return [
    { measure: 'held-out (OOCR)', ...study.acc },
    { measure: 'side effects', ...study.side_effect_acc },
  ];
}

export function accuracyCsv(study: Study): string {
  const rows: unknown[][] = [];
  for (const m of METHODS) rows.push([m, study.acc[m], study.side_effect_acc[m], study.chance]);
  return toCsv(['method', 'heldout_acc', 'side_effect_acc', 'chance'], rows);
}

// ─── (e) ΔW singular values ───────────────────────────────────────────────────────────────────────

export interface DeltaWChart {
  rows: Record<string, number | null>[];
  series: { key: string; label: string }[];
}

/** Rows `{ index (1-based), w0: σ_k of weight 0, … }`; non-positive values are null (log axis). */
export function deltaWRows(study: Study): DeltaWChart {
  const ws = study.delta_w_singular_values;
  const n = Math.max(0, ...ws.map((w) => w.values.length));
  const rows = Array.from({ length: n }, (_, k) => {
    const row: Record<string, number | null> = { index: k + 1 };
    ws.forEach((w, i) => {
      const v = w.values[k];
      row[`w${i}`] = v !== undefined && v > 0 && Number.isFinite(v) ? v : null;
    });
    return row;
  });
  return { rows, series: ws.map((w, i) => ({ key: `w${i}`, label: w.weight })) };
}

export function deltaWCsv(study: Study): string {
  const rows: unknown[][] = [];
  for (const w of study.delta_w_singular_values) w.values.forEach((v, k) => rows.push([w.weight, k + 1, v]));
  return toCsv(['weight', 'index', 'singular_value'], rows);
}

/** Share of Σσ carried by σ₁ of each ΔW: near 1 ⇒ the LoRA update is essentially one direction. */
export function topShare(values: readonly number[]): number {
  const s = values.reduce((a, b) => a + Math.max(0, b), 0);
  return s > 0 ? Math.max(0, values[0] ?? 0) / s : NaN;
}

// ─── Study picker ─────────────────────────────────────────────────────────────────────────────────

/** Picker text for a study. */
export function studyLabel(s: StudySummary): string {
  return `${s.id} — ${s.kind}, seed ${s.seed}`;
}

/** The study to show: the chosen one if still listed, else the first. */
export function pickStudy(studies: readonly StudySummary[] | undefined, chosen: string | null): string | null {
  if (!studies?.length) return null;
  return chosen && studies.some((s) => s.id === chosen) ? chosen : studies[0].id;
}
