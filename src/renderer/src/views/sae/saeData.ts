import type { SaeCurvePoint, SaeDetails, SaeFeatureInfo, SaeFeaturesResult, SaeInterventionResult, SaeSummary } from '../../../../shared/api';
import { toCsv } from '../../../../shared/csv';
import type { CurveSeries, StepPoint } from '../../figure/curves';

/**
 * The SAE view's data shaping, pure: training curves from metrics.jsonl (or a live job), the feature
 * density histogram, the sortable feature list, one feature's examples / histogram / logit effects,
 * and an intervention's accuracies as bars; each with its CSV.
 */

export type SaeCurveKey = 'loss' | 'l0' | 'fve';

export const CURVE_LABELS: Record<SaeCurveKey, string> = { loss: 'loss', l0: 'L0 (active features per token)', fve: 'fraction of variance explained' };

/** One curve of the training: loss, L0 or FVE over steps (non-finite values and, for the log-scale loss, non-positive ones left out). */
export function saeCurve(points: readonly SaeCurvePoint[], key: SaeCurveKey, label = 'training'): CurveSeries[] {
  const pts: StepPoint[] = [];
  for (const p of points) {
    const v = p[key];
    if (v === undefined || !Number.isFinite(v) || (key === 'loss' && v <= 0)) continue;
    pts.push({ step: p.step, value: v });
  }
  // The legend names a series by its group: 'loss' reads as "training loss" (figure/labels.ts).
  const name = key === 'loss' ? 'loss' : label === 'training' ? (key === 'l0' ? 'L0' : 'FVE') : label;
  return [{ key: 's0', label: name, group: name, colourIndex: key === 'loss' ? 0 : key === 'l0' ? 1 : 2, dashed: false, points: pts }];
}

/** A live job's progress events as curve points (metrics l0, fve, mse, dead). */
export function jobCurvePoints(curve: readonly { step: number; loss: number; metrics?: Record<string, number> }[]): SaeCurvePoint[] {
  return curve.map((c) => ({ step: c.step, loss: c.loss, l0: c.metrics?.l0, fve: c.metrics?.fve, mse: c.metrics?.mse, dead: c.metrics?.dead }));
}

export interface DensityRow {
  /** Bin label: '−3.5…−3' (log10 of the fraction of tokens). */
  bin: string;
  log10From: number;
  log10To: number;
  count: number;
}

const minus = (v: number): string => (v < 0 ? `−${Math.abs(v)}` : String(v));

/** Live features per log10-density bin, from the lowest non-empty bin up (empty bins inside kept). */
export function densityRows(d: Pick<SaeDetails, 'densityHistogram'>): DensityRow[] {
  const bins = d.densityHistogram;
  const first = bins.findIndex((b) => b.count > 0);
  if (first < 0) return [];
  let last = bins.length - 1;
  while (last > first && bins[last].count === 0) last--;
  return bins.slice(first, last + 1).map((b) => ({ bin: `${minus(b.log10From)}…${minus(b.log10To)}`, log10From: b.log10From, log10To: b.log10To, count: b.count }));
}

/** The density histogram as CSV, with the dead features (density 0) as their own row. */
export function densityCsv(d: Pick<SaeDetails, 'densityHistogram' | 'dead'>): string {
  const rows: unknown[][] = d.densityHistogram.map((b) => [b.log10From, b.log10To, b.count]);
  if (d.dead !== undefined) rows.push(['dead', 'dead', d.dead]);
  return toCsv(['log10_density_from', 'log10_density_to', 'features'], rows);
}

/** One-line description of an SAE for pickers and headers. */
export function saeLabel(s: SaeSummary): string {
  if (s.error) return `${s.name} (unreadable)`;
  const arch = s.architecture === 'topk' ? `TopK k ${s.k ?? '?'}` : s.architecture === 'standard' ? 'ReLU' : (s.architecture ?? '?');
  return `${s.name} — ${s.hook ?? '?'} of ${s.subject ?? '?'}, ${arch}, d_sae ${s.dSae ?? '?'}`;
}

/** The SAE's headline metrics as short parts ('L0 8.00', 'FVE 0.990', …), those recorded. */
export function saeMetricParts(s: SaeSummary): string[] {
  const out: string[] = [];
  if (s.l0 !== undefined) out.push(`L0 ${s.l0.toFixed(2)}`);
  if (s.fve !== undefined) out.push(`FVE ${s.fve.toFixed(3)}`);
  if (s.deadFraction !== undefined) out.push(`dead ${(100 * s.deadFraction).toFixed(1)}%`);
  if (s.lossRecovered !== undefined) out.push(`loss recovered ${s.lossRecovered.toFixed(3)}`);
  if (s.steps !== undefined) out.push(`${s.steps} steps`);
  return out;
}

export type FeatureSort = 'density' | 'mi' | 'cos';

export interface FeatureRow {
  index: number;
  density: number;
  maxActivation: number;
  /** MI (bits) with the chosen label; null where not measured. */
  mi: number | null;
  /** The label value it fires on most, and how often. */
  best: string | null;
  pFireGivenBest: number | null;
  /** Cosine with the chosen vector; null without one. */
  cos: number | null;
  /** Has examples, histogram and logit effects in the report. */
  detailed: boolean;
}

/** The features as rows, sorted by density, by MI with `label` or by |cos| with `vector` (highest first; ties by index); dead features last or left out. */
export function featureRows(r: Pick<SaeFeaturesResult, 'features' | 'detailed'>, o: { sort: FeatureSort; label?: string; vector?: string; includeDead?: boolean; limit?: number }): FeatureRow[] {
  const detailed = new Set(r.detailed.map((f) => f.index));
  const rows = r.features
    .filter((f) => o.includeDead || f.density > 0)
    .map((f): FeatureRow => {
      const rel = o.label ? f.relevance[o.label] : undefined;
      const cos = o.vector ? f.cosines[o.vector] : undefined;
      return {
        index: f.index,
        density: f.density,
        maxActivation: f.maxActivation,
        mi: rel ? rel.mi : null,
        best: rel ? rel.best : null,
        pFireGivenBest: rel ? rel.pFireGivenBest : null,
        cos: cos === undefined ? null : cos,
        detailed: detailed.has(f.index),
      };
    });
  const score = (x: FeatureRow): number => (o.sort === 'density' ? x.density : o.sort === 'mi' ? (x.mi ?? -1) : Math.abs(x.cos ?? -1));
  rows.sort((a, b) => score(b) - score(a) || a.index - b.index);
  return o.limit === undefined ? rows : rows.slice(0, o.limit);
}

export function featureRowsCsv(rows: readonly FeatureRow[], o: { label?: string; vector?: string }): string {
  return toCsv(
    ['feature', 'density', 'max_activation', ...(o.label ? [`mi_bits_${o.label}`, `fires_most_on_${o.label}`, 'p_fire_given_best'] : []), ...(o.vector ? [`cos_${o.vector}`] : [])],
    rows.map((x) => [x.index, x.density, x.maxActivation, ...(o.label ? [x.mi ?? '', x.best ?? '', x.pFireGivenBest ?? ''] : []), ...(o.vector ? [x.cos ?? ''] : [])]),
  );
}

/** The feature's detail (examples, histogram, logits) from the report, or null when it was not detailed. */
export function featureDetail(r: Pick<SaeFeaturesResult, 'detailed'>, index: number): SaeFeatureInfo | null {
  return r.detailed.find((f) => f.index === index) ?? null;
}

export interface ExampleToken {
  text: string;
  /** The position of the example's maximum activation. */
  max: boolean;
}

/** An example's tokens with the maximum's position marked. */
export function exampleTokens(e: { tokens: readonly string[]; position: number }): ExampleToken[] {
  return e.tokens.map((text, i) => ({ text, max: i === e.position }));
}

export function examplesCsv(f: SaeFeatureInfo): string {
  return toCsv(
    ['feature', 'rank', 'activation', 'position', 'max_token', 'label', 'prompt'],
    (f.topExamples ?? []).map((e, i) => [f.index, i + 1, e.activation, e.position, e.tokens[e.position] ?? '', e.label ?? '', e.tokens.join(' ')]),
  );
}

export interface HistogramRow {
  /** Bin centre. */
  x: number;
  from: number;
  to: number;
  count: number;
}

export function histogramRows(f: SaeFeatureInfo): HistogramRow[] {
  return (f.histogram ?? []).map((b) => ({ x: (b.from + b.to) / 2, from: b.from, to: b.to, count: b.count }));
}

export function histogramCsv(f: SaeFeatureInfo): string {
  return toCsv(['feature', 'activation_from', 'activation_to', 'count'], (f.histogram ?? []).map((b) => [f.index, b.from, b.to, b.count]));
}

export interface LogitRow {
  token: string;
  value: number;
  kind: 'promoted' | 'suppressed';
}

/** Promoted tokens (highest first), then suppressed ones (most negative last), for one horizontal bar chart. */
export function logitRows(f: SaeFeatureInfo, n = 10): LogitRow[] {
  const e = f.logitEffects;
  if (!e) return [];
  return [...e.promoted.slice(0, n).map((t) => ({ ...t, kind: 'promoted' as const })), ...e.suppressed.slice(0, n).reverse().map((t) => ({ ...t, kind: 'suppressed' as const }))];
}

export function logitCsv(f: SaeFeatureInfo): string {
  const e = f.logitEffects;
  if (!e) return toCsv(['feature', 'kind', 'rank', 'token', 'logit_effect'], []);
  return toCsv(
    ['feature', 'kind', 'rank', 'token', 'logit_effect'],
    [...e.promoted.map((t, i) => [f.index, 'promoted', i + 1, t.token, t.value]), ...e.suppressed.map((t, i) => [f.index, 'suppressed', i + 1, t.token, t.value])],
  );
}

export interface InterventionBar {
  key: string;
  label: string;
  acc: number;
}

/** The intervention's held-out accuracies as bars: base, steered, the feature's edits, and the random-direction control. */
export function interventionBars(r: SaeInterventionResult): InterventionBar[] {
  return [
    { key: 'base', label: 'base', acc: r.baseAcc },
    { key: 'steered', label: 'steered (trained v)', acc: r.steeredAcc },
    { key: 'steeredSpliced', label: 'steered, SAE spliced', acc: r.steeredSplicedAcc },
    { key: 'steeredAblated', label: `steered, #${r.feature} ablated`, acc: r.steeredAblatedAcc },
    { key: 'vectorWithout', label: `v minus #${r.feature}'s direction`, acc: r.vectorWithoutDirectionAcc },
    { key: 'featureSteering', label: `base + ${fmtAlpha(r.alpha)} × #${r.feature}`, acc: r.featureSteeringAcc },
    { key: 'random', label: `base + ${fmtAlpha(r.alpha)} × random (mean)`, acc: r.randomDirectionAcc.mean },
  ];
}

export function fmtAlpha(a: number): string {
  return Math.abs(a) >= 100 || Number.isInteger(a) ? String(Math.round(a * 100) / 100) : a.toFixed(2);
}

export function interventionCsv(r: SaeInterventionResult): string {
  const rows: unknown[][] = interventionBars(r).map((b) => [r.feature, r.alpha, b.key, b.label, b.acc, r.nHeldOut]);
  rows.push([r.feature, r.alpha, 'random_max', `random directions (max of ${r.randomDirectionAcc.n})`, r.randomDirectionAcc.max, r.nHeldOut]);
  rows.push([r.feature, r.alpha, 'chance', 'chance', r.chance, r.nHeldOut]);
  return toCsv(['feature', 'alpha', 'measure', 'label', 'heldout_acc', 'n_heldout'], rows);
}

/** Steering strength of k × ‖trained vector‖ (the slider's unit), or k itself without a study vector. */
export function alphaOf(k: number, norms: Record<string, number> | undefined): number {
  const n = norms?.trained_sv;
  return n !== undefined && Number.isFinite(n) && n > 0 ? k * n : k;
}

export interface SaeForm {
  name: string;
  id: string;
  hook: string;
  architecture: 'topk' | 'relu';
  expansion: string;
  k: string;
  l1: string;
  lr: string;
  tokens: string;
  seed: string;
}

export const DEFAULT_FORM: SaeForm = { name: '', id: 'world-base', hook: 'blocks.0.hook_resid_post', architecture: 'topk', expansion: '8', k: '8', l1: '2.5', lr: '0.004', tokens: '100000', seed: '0' };

export interface StartSaeRequest {
  name: string;
  id: string;
  hook: string;
  architecture: 'topk' | 'relu';
  expansion: number;
  k?: number;
  l1?: number;
  lr: number;
  tokens: number;
  seed: number;
}

/** The form as a request, or the first problem with it (checked again by the backend). */
export function formRequest(f: SaeForm, taken: ReadonlySet<string>): { request: StartSaeRequest } | { error: string } {
  const name = f.name.trim();
  if (!name) return { error: 'give the SAE a name' };
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name)) return { error: 'the name is one folder name: letters, digits, . _ -, not starting with a dot' };
  if (taken.has(name)) return { error: `an SAE named '${name}' exists` };
  if (!f.id) return { error: 'choose a run' };
  if (!f.hook.trim()) return { error: 'give a hook' };
  const int = (s: string, what: string, lo: number, hi: number): number | string => {
    const v = Number(s);
    return Number.isInteger(v) && v >= lo && v <= hi ? v : `${what}: a whole number from ${lo} to ${hi}`;
  };
  const pos = (s: string, what: string, hi: number): number | string => {
    const v = Number(s);
    return s.trim() !== '' && Number.isFinite(v) && v > 0 && v <= hi ? v : `${what}: a number above 0, at most ${hi}`;
  };
  const expansion = int(f.expansion, 'expansion', 1, 64);
  const tokens = int(f.tokens, 'tokens', 1, 100_000_000);
  const seed = int(f.seed, 'seed', 0, 2 ** 31 - 1);
  const lr = pos(f.lr, 'learning rate', 1);
  const k = f.architecture === 'topk' ? int(f.k, 'k', 1, 4096) : undefined;
  const l1 = f.architecture === 'relu' ? pos(f.l1, 'L1 coefficient', 1000) : undefined;
  for (const v of [expansion, tokens, seed, lr, k, l1]) if (typeof v === 'string') return { error: v };
  return {
    request: {
      name,
      id: f.id,
      hook: f.hook.trim(),
      architecture: f.architecture,
      expansion: expansion as number,
      ...(k !== undefined ? { k: k as number } : {}),
      ...(l1 !== undefined ? { l1: l1 as number } : {}),
      lr: lr as number,
      tokens: tokens as number,
      seed: seed as number,
    },
  };
}

/** Hooks offered for a model of `nLayers` layers (any TransformerLens hook may be typed). */
export function hookOptions(nLayers: number): string[] {
  const out = ['hook_embed'];
  for (let l = 0; l < nLayers; l++) out.push(`blocks.${l}.hook_resid_pre`, `blocks.${l}.hook_resid_mid`, `blocks.${l}.hook_resid_post`, `blocks.${l}.hook_attn_out`, `blocks.${l}.hook_mlp_out`);
  return out;
}
