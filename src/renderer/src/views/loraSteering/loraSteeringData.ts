import type { LoraVsSteeringAnalysis } from '../../../../shared/analysis';
import type { StudySummary } from '../../../../shared/api';
import { toCsv } from '../../../../shared/csv';
import { parseHookName } from '../../../../shared/hooks';
import { formatAccuracyCi, wilsonInterval } from '../../../../shared/wilson';
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
  /** Each token's position in its sequence (the record's, else the label's `@position`; null if neither says). */
  positions: (number | null)[];
  /** Whether each token is a read-out (where the answer is read); null where the record does not say. */
  readout: (boolean | null)[];
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
  const recorded = study.cos_matrix.positions;
  const positions = labels.map((l, i) => (recorded && Number.isInteger(recorded[i]) ? recorded[i] : labelPosition(l)));
  const readout = labels.map((_, i) => study.cos_matrix.readout?.[i] ?? null);
  return { values, rowLabels: labels.map((l, i) => `${ids[i]} ${shortLabel(l)}`), colLabels: ids, fullLabels: labels, split, positions, readout };
}

/** The position a label names: `train:city_4@4` → 4; null without one. */
export function labelPosition(label: string): number | null {
  const m = /@(\d+)$/.exec(label);
  return m ? Number(m[1]) : null;
}

/** A position the sample holds, for the heatmap's position picker. */
export interface PositionOption {
  position: number;
  /** How many sampled tokens sit there (training and unrelated together). */
  count: number;
  /** Some sampled token at this position is a read-out. */
  readout: boolean;
}

/** The distinct positions of the sampled tokens, ascending. */
export function positionOptions(m: CosMatrix): PositionOption[] {
  const by = new Map<number, PositionOption>();
  m.positions.forEach((p, i) => {
    if (p === null) return;
    const o = by.get(p) ?? { position: p, count: 0, readout: false };
    o.count += 1;
    o.readout ||= m.readout[i] === true;
    by.set(p, o);
  });
  return [...by.values()].sort((a, b) => a.position - b.position);
}

/**
 * The matrix restricted to tokens at the given positions (rows and columns alike), ids kept (T3 stays
 * T3) so the hover readout and the CSV name the same tokens. Tokens without a known position are kept.
 */
export function filterCosMatrix(m: CosMatrix, keep: ReadonlySet<number>): CosMatrix {
  const idx = m.positions.map((p, i) => (p === null || keep.has(p) ? i : -1)).filter((i) => i >= 0);
  if (idx.length === m.positions.length) return m;
  const at = <T>(xs: readonly T[]): T[] => idx.map((i) => xs[i]);
  return {
    values: idx.map((i) => idx.map((j) => m.values[i][j])),
    rowLabels: at(m.rowLabels),
    colLabels: at(m.colLabels),
    fullLabels: at(m.fullLabels),
    split: idx.filter((i) => i < m.split).length,
    positions: at(m.positions),
    readout: at(m.readout),
  };
}

/** Mean off-diagonal |cos| per block over every token delta, with the token counts. */
export interface FullBlockMeans {
  train: number;
  unrelated: number;
  across: number;
  nTrain: number;
  nUnrelated: number;
}

/**
 * The caption's statistics, over all token deltas (not the display sample): the record's
 * `cos_block_means`, else derived from the PC1 panel's summaries. Those hold each set's mean |cos| and
 * that of both together; with P(n) = n(n−1)/2 pairs, P(N)·all = P(nT)·train + P(nU)·unrelated +
 * nT·nU·across gives the across-set mean exactly.
 */
export function fullBlockMeans(study: Study): FullBlockMeans | null {
  const r = study.cos_block_means;
  if (r) return { train: r.train, unrelated: r.unrelated, across: r.across, nTrain: r.n_train, nUnrelated: r.n_unrelated };
  const { train, unrelated, all } = study.deltas;
  const nT = train.nTokens;
  const nU = unrelated.nTokens;
  if (!(nT > 0 && nU > 0) || all.nTokens !== nT + nU) return null;
  const pairs = (n: number): number => (n * (n - 1)) / 2;
  const across = (pairs(nT + nU) * all.meanAbsCos - pairs(nT) * train.meanAbsCos - pairs(nU) * unrelated.meanAbsCos) / (nT * nU);
  return { train: train.meanAbsCos, unrelated: unrelated.meanAbsCos, across, nTrain: nT, nUnrelated: nU };
}

/** `train×train 0.81, unrelated×unrelated 0.64, across 0.68` (n/a where unknown). */
export function blockMeansText(m: { train: number; unrelated: number; across: number }): string {
  const f = (v: number): string => (finite(v) === null ? 'n/a' : fmt(v));
  return `train×train ${f(m.train)}, unrelated×unrelated ${f(m.unrelated)}, across ${f(m.across)}`;
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

/** An accuracy with the number of questions behind it and its Wilson 95% interval (null where n is not recorded). */
export interface AccuracyCi {
  acc: number;
  n: number | null;
  lo: number | null;
  hi: number | null;
}

export function accuracyCi(acc: number, n: number | null | undefined): AccuracyCi {
  const count = typeof n === 'number' && n > 0 ? n : null;
  if (count === null || finite(acc) === null) return { acc, n: count, lo: null, hi: null };
  const { lo, hi } = wilsonInterval(acc * count, count);
  return { acc, n: count, lo, hi };
}

export type AccMeasure = 'heldout' | 'side_effect';

/** Every accuracy of the accuracy panel with its interval: [measure][method]. */
export function accuracyCis(study: Study): Record<AccMeasure, Record<Method, AccuracyCi>> {
  const of = (acc: Study['acc'], n: Partial<Record<Method, number>> | undefined): Record<Method, AccuracyCi> =>
    Object.fromEntries(METHODS.map((m) => [m, accuracyCi(acc[m], n?.[m])])) as Record<Method, AccuracyCi>;
  return { heldout: of(study.acc, study.eval_n?.acc), side_effect: of(study.side_effect_acc, study.eval_n?.side_effect_acc) };
}

/**
 * `0.965 [0.942, 0.979] (n = 400)`, or the bare accuracy where n is not recorded; `withN: false` leaves
 * out the `(n = …)` (a table that states n once per column).
 */
export function ciText(c: AccuracyCi, o: { withN?: boolean } = {}): string {
  if (finite(c.acc) === null) return 'n/a';
  if (c.n === null) return fmt(c.acc);
  const s = formatAccuracyCi(c.acc, c.n);
  return o.withN === false ? s.replace(/ \(n = \d+\)$/, '') : s;
}

/** The question count every method shares for a measure, or null (not recorded, or they differ). */
export function commonN(cis: Record<Method, AccuracyCi>): number | null {
  const ns = new Set(METHODS.map((m) => cis[m].n));
  const [n] = [...ns];
  return ns.size === 1 && n !== null && n !== undefined ? n : null;
}

/**
 * Error-bar offsets for the bars ([value − lo, hi − value] under `${method}Err`), one row per measure
 * as in accuracyRows; methods without an interval get none.
 */
export function accuracyBarRows(study: Study): Record<string, string | number | number[]>[] {
  const cis = accuracyCis(study);
  return accuracyRows(study).map((r, i) => {
    const c = cis[i === 0 ? 'heldout' : 'side_effect'];
    const row: Record<string, string | number | number[]> = { ...r };
    for (const m of METHODS) {
      const { acc, lo, hi } = c[m];
      if (lo !== null && hi !== null) row[`${m}Err`] = [Math.max(0, acc - lo), Math.max(0, hi - acc)];
    }
    return row;
  });
}

/** Which questions the study's accuracies come from, for the accuracy panel's caption. */
export function evaluationText(study: Study): string {
  const e = study.evaluation;
  const n = study.eval_n;
  const runs = 'The Runs view’s accuracy of each fine-tune run is that run’s own final evaluation, another draw of questions, so it differs from these by sampling noise.';
  if (!e || !n) return `The record does not say how many questions each accuracy counts, so no intervals are shown. ${runs}`;
  const count = (sets: { n: number }[]): number => sets.reduce((s, x) => s + x.n, 0);
  const sets = (xs: { name: string; n: number }[]): string => xs.map((x) => `${x.name} ${x.n}`).join(', ');
  const held = count(e.heldout_sets);
  const side = count(e.side_effect_sets);
  return `Study evaluation: ${held} fresh held-out questions (${sets(e.heldout_sets)}) and ${side} side-effect questions (${e.side_effect_sets.length} sets of ${e.side_effect_sets[0]?.n ?? 0}), seed ${e.seed}, the same questions for every method. Error bars and brackets: Wilson 95% intervals. ${runs}`;
}

export function accuracyCsv(study: Study): string {
  const rows: unknown[][] = [];
  const chance = finite(study.chance) === null ? '' : study.chance;
  const cis = accuracyCis(study);
  for (const m of METHODS)
    for (const measure of ['heldout', 'side_effect'] as const) {
      const c = cis[measure][m];
      rows.push([m, measure, c.acc, csvNumber(c.lo), csvNumber(c.hi), c.n ?? '', measure === 'heldout' ? chance : '']);
    }
  return toCsv(['method', 'measure', 'acc', 'acc_lo', 'acc_hi', 'n', 'chance'], rows);
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

/** Each seed's accuracies with their intervals (where the record gives the question counts). */
export function seedCis(study: Study): { seed: number; acc: AccuracyCi; side: AccuracyCi }[] {
  return (study.seeds?.runs ?? []).map((r) => ({ seed: r.seed, acc: accuracyCi(r.acc, r.n), side: accuracyCi(r.side_effect_acc, r.side_effect_n) }));
}

/** SeedRow plus error-bar offsets (`accErr`, `sideErr`) where the intervals are known. */
export function seedBarRows(study: Study): Record<string, string | number | number[]>[] {
  const cis = seedCis(study);
  return seedRows(study).map((r, i) => {
    const row: Record<string, string | number | number[]> = { ...r };
    const err = (c: AccuracyCi): number[] | null => (c.lo !== null && c.hi !== null ? [Math.max(0, c.acc - c.lo), Math.max(0, c.hi - c.acc)] : null);
    const a = err(cis[i].acc);
    const s = err(cis[i].side);
    if (a) row.accErr = a;
    if (s) row.sideErr = s;
    return row;
  });
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
  const cis = seedCis(study);
  return toCsv(
    ['seed', 'heldout_acc', 'heldout_acc_lo', 'heldout_acc_hi', 'heldout_n', 'side_effect_acc', 'side_effect_acc_lo', 'side_effect_acc_hi', 'side_effect_n', 'norm', ...runs.map((r) => `cos_seed_${r.seed}`)],
    runs.map((r, i) => {
      const { acc, side } = cis[i];
      return [
        r.seed,
        csvNumber(r.acc),
        csvNumber(acc.lo),
        csvNumber(acc.hi),
        acc.n ?? '',
        csvNumber(r.side_effect_acc),
        csvNumber(side.lo),
        csvNumber(side.hi),
        side.n ?? '',
        csvNumber(r.norm),
        ...runs.map((_, j) => csvNumber(s?.cos[i]?.[j])),
      ];
    }),
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
