import type { LoraVsSteeringAnalysis } from '../../../../shared/analysis';
import type { StudySummary } from '../../../../shared/api';
import { toCsv } from '../../../../shared/csv';
import { parseHookName } from '../../../../shared/hooks';
import { fmt } from '../../figure/heatmapFigure';

/**
 * Pure data shaping for the LoRA-vs-steering view (arXiv 2507.08218 reproduced on a small model):
 * the study record (LoraVsSteeringAnalysis, src/shared/analysis.ts) into heatmap specs, bar rows and CSV.
 */

type Study = LoraVsSteeringAnalysis;

/** A finite number, else null: NaN (or null, which is what JSON makes of NaN) means "not known". */
export function finite(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A finite number as the CSV helpers write it, else an empty field. */
function csvNumber(v: number | null | undefined): number | '' {
  return finite(v) ?? '';
}

// ─── Study summary ────────────────────────────────────────────────────────────────────────────────

/** A real-model study (a Hugging Face model with a PEFT LoRA) rather than the toy world's. */
export function isRealStudy(study: Study): boolean {
  return study.model !== undefined || study.peft !== undefined;
}

/** Sorted distinct layers with runs of three or more written as ranges: [0, 1, …, 11] → `0–11`; [0, 1, 4] → `0, 1, 4`. */
export function compactLayers(layers: readonly number[]): string {
  const xs = [...new Set(layers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    if (j - i >= 2) parts.push(`${xs[i]}–${xs[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(xs[k]));
    i = j + 1;
  }
  return parts.join(', ');
}

/** The last segment of a path (either separator, trailing ones ignored): `../models/gpt2/` → `gpt2`. */
export function folderName(p: string): string {
  const parts = p.split(/[\\/]+/).filter((x) => x !== '');
  return parts[parts.length - 1] ?? p;
}

/** The layer of the study's hook (`blocks.6.hook_resid_post` → 6), or null. */
export function hookLayer(study: Study): number | null {
  return parseHookName(study.hook)?.layer ?? null;
}

/** The LoRA's rank: the toy LoRA's `rank` or the PEFT adapter's `r`. */
export function loraRank(study: Study): number | null {
  return study.lora?.rank ?? study.peft?.r ?? null;
}

/** The summary caption, split around the hook name (the view sets it as code). */
export interface SummaryParts {
  before: string;
  hook: string;
  after: string;
}

const SUMMARY_TAIL = '. Natural steering vector = PC1 of the deltas scaled to their mean norm; trained = one vector learned from scratch at the hook.';

export function studySummaryParts(study: Study): SummaryParts {
  const latent = study.latentCity !== null && study.latentCity !== undefined ? `, latent city #${study.latentCity}` : '';
  const plural = (n: number) => (n > 1 ? 's' : '');
  let lead: string;
  if (isRealStudy(study)) {
    const m = study.model;
    const model = m ? `${m.modelType} model (folder ${folderName(m.dir)})` : 'Hugging Face model';
    const p = study.peft;
    const lora = p ? `PEFT LoRA r ${p.r}, α ${p.alpha} on ${p.targetModules.join(', ')} of layer${plural(p.layers.length)} ${compactLayers(p.layers)}` : 'PEFT LoRA not recorded';
    const adapter = m ? (m.adapterTrainedHere ? ', trained here' : `, imported (adapter ${m.adapter})`) : '';
    lead = `${model}, ${study.kind} dataset, seed ${study.seed}${latent}. ${lora}${adapter}`;
  } else {
    const task = study.kind === 'backdoor' ? 'Backdoor (trigger) task' : 'Locations task (codename city)';
    const l = study.lora;
    const lora = l ? `LoRA rank ${l.rank}, α ${l.alpha} on ${l.targets.join(', ')} of layer${plural(l.layers.length)} ${l.layers.join(', ')}` : 'LoRA not recorded';
    lead = `${task}, seed ${study.seed}${latent}. ${lora}`;
  }
  return { before: `${lead}; deltas and steering vectors at `, hook: study.hook, after: SUMMARY_TAIL };
}

/** The caption above a study's panels, as plain text. */
export function studySummary(study: Study): string {
  const p = studySummaryParts(study);
  return p.before + p.hook + p.after;
}

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

/** Chance on the held-out questions as the caption says it: `0.21`, or `n/a` where the dataset did not say. */
export function chanceText(study: Study): string {
  const c = finite(study.chance);
  return c === null ? 'n/a' : fmt(c);
}

export function accuracyCsv(study: Study): string {
  const rows: unknown[][] = [];
  const chance = finite(study.chance) === null ? '' : study.chance;
  for (const m of METHODS) rows.push([m, study.acc[m], study.side_effect_acc[m], chance]);
  return toCsv(['method', 'heldout_acc', 'side_effect_acc', 'chance'], rows);
}

// ─── (e) ΔW singular values ───────────────────────────────────────────────────────────────────────

export interface DeltaWChart {
  rows: Record<string, number | null>[];
  series: { key: string; label: string }[];
}

/** A ΔW's name for legends: PEFT's `base_model.model.` prefix dropped (toy names are kept). */
export function weightLabel(weight: string): string {
  return weight.replace(/^base_model\.model\./, '');
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
  return { rows, series: ws.map((w, i) => ({ key: `w${i}`, label: weightLabel(w.weight) })) };
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

/**
 * σ₁'s share of Σσ per ΔW for the caption: `name share` for each (up to 6 matrices), else the range
 * over all of them (a real model's LoRA adapts dozens).
 */
export function topShareText(study: Study): string {
  const ws = study.delta_w_singular_values.map((w) => ({ name: weightLabel(w.weight), share: topShare(w.values) }));
  if (ws.length <= 6) return ws.map((w) => `${w.name} ${fmt(w.share)}`).join(', ');
  const known = ws.filter((w) => Number.isFinite(w.share)).sort((a, b) => a.share - b.share);
  if (!known.length) return `n/a for all ${ws.length} matrices`;
  const lo = known[0];
  const hi = known[known.length - 1];
  return `from ${fmt(lo.share)} (${lo.name}) to ${fmt(hi.share)} (${hi.name}) over ${ws.length} matrices`;
}

// ─── (f) Layer sweep ──────────────────────────────────────────────────────────────────────────────

export const SWEEP_SERIES = [
  { key: 'pc1', label: 'PC1 share (uncentred)' },
  { key: 'meanAbsCos', label: 'mean |cos|' },
] as const;

export interface SweepRow {
  layer: number;
  pc1: number | null;
  meanAbsCos: number | null;
  meanNorm: number | null;
  [key: string]: number | null;
}

/** One row per layer's resid_post (empty where the record has no sweep); NaN becomes null (a gap). */
export function layerSweepRows(study: Study): SweepRow[] {
  return (study.layer_sweep ?? []).map((r) => ({ layer: r.layer, pc1: finite(r.pc1_var_ratio), meanAbsCos: finite(r.mean_abs_cos), meanNorm: finite(r.mean_norm) }));
}

/** The layer whose deltas are most one-directional (highest PC1 share), or null. */
export function sweepPeak(study: Study): { layer: number; pc1: number } | null {
  let best: { layer: number; pc1: number } | null = null;
  for (const r of layerSweepRows(study)) if (r.pc1 !== null && (best === null || r.pc1 > best.pc1)) best = { layer: r.layer, pc1: r.pc1 };
  return best;
}

export function layerSweepCsv(study: Study): string {
  return toCsv(
    ['layer', 'hook', 'pc1_var_ratio', 'mean_abs_cos', 'mean_norm', 'cos_natural_trained'],
    (study.layer_sweep ?? []).map((r) => [r.layer, r.hook, csvNumber(r.pc1_var_ratio), csvNumber(r.mean_abs_cos), csvNumber(r.mean_norm), csvNumber(r.cos_natural_trained)]),
  );
}

// ─── (g) Per-token cosine with the trained vector ─────────────────────────────────────────────────

export interface TokenCosChart {
  /** `{ token: 'T1 ·Paris@5', g0: cos }`: one key per token set, set only for the row's own set (stacked bars). */
  rows: Record<string, string | number>[];
  series: { key: string; label: string }[];
}

/**
 * The sampled tokens' cos(LoRA delta, trained vector), one bar each, coloured by token set. Ids count
 * within each set as in the |cos| matrix: T1…, U1…
 */
export function tokenCosRows(study: Study): TokenCosChart {
  const d = study.delta_cos_trained;
  if (!d) return { rows: [], series: [] };
  const groups: string[] = [];
  const counts = new Map<string, number>();
  const rows = d.labels.map((label, i) => {
    const g = labelGroup(label);
    if (!groups.includes(g)) groups.push(g);
    const k = (counts.get(g) ?? 0) + 1;
    counts.set(g, k);
    const id = `${(g[0] ?? '#').toUpperCase()}${k}`;
    const row: Record<string, string | number> = { token: `${id} ${shortLabel(label)}` };
    const v = finite(d.values[i]);
    if (v !== null) row[`g${groups.indexOf(g)}`] = v;
    return row;
  });
  const series = groups.map((g, i) => ({ key: `g${i}`, label: (DELTA_GROUP_LABELS as Record<string, string>)[g] ?? (g || 'tokens') }));
  return { rows, series };
}

/** The means per set for the caption: `training prompts 0.81 · unrelated text 0.42 · all tokens 0.62`. */
export function tokenCosMeansText(study: Study): string {
  const m = study.delta_cos_trained?.mean;
  if (!m) return '';
  return DELTA_GROUPS.map((g) => `${DELTA_GROUP_LABELS[g]} ${finite(m[g]) === null ? 'n/a' : fmt(m[g])}`).join(' · ');
}

export function tokenCosCsv(study: Study): string {
  const d = study.delta_cos_trained;
  return toCsv(
    ['index', 'set', 'token', 'cos_trained'],
    (d?.labels ?? []).map((label, i) => [i, labelGroup(label), shortLabel(label), csvNumber(d?.values[i])]),
  );
}

// ─── (h) Trained vectors across seeds ─────────────────────────────────────────────────────────────

export const SEED_SERIES = [
  { key: 'acc', label: 'held-out (OOCR)' },
  { key: 'side', label: 'side effects' },
] as const;

export interface SeedRow {
  seed: string;
  acc: number;
  side: number;
  norm: number;
  [key: string]: string | number;
}

export function seedRows(study: Study): SeedRow[] {
  return (study.seeds?.runs ?? []).map((r) => ({ seed: `seed ${r.seed}`, acc: r.acc, side: r.side_effect_acc, norm: r.norm }));
}

/** The cosines between distinct seeds' vectors: `{ a: seed, b: seed, cos }` for each pair a < b. */
export function seedPairs(study: Study): { a: number; b: number; cos: number | null }[] {
  const s = study.seeds;
  if (!s) return [];
  const out: { a: number; b: number; cos: number | null }[] = [];
  s.runs.forEach((ra, i) => s.runs.forEach((rb, j) => j > i && out.push({ a: ra.seed, b: rb.seed, cos: finite(s.cos[i]?.[j]) })));
  return out;
}

export function seedsCsv(study: Study): string {
  const s = study.seeds;
  const runs = s?.runs ?? [];
  return toCsv(
    ['seed', 'heldout_acc', 'side_effect_acc', 'norm', ...runs.map((r) => `cos_seed_${r.seed}`)],
    runs.map((r, i) => [r.seed, csvNumber(r.acc), csvNumber(r.side_effect_acc), csvNumber(r.norm), ...runs.map((_, j) => csvNumber(s?.cos[i]?.[j]))]),
  );
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
