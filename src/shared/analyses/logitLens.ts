import { z } from 'zod';
import type { DirectLogitAttributionResult, LensHook, LogitLensResult } from '../analysis';
import { toCsv } from '../csv';
import { Position, Prompt, Step, TokenName } from './fields';
import { defineAnalysis, type AnalysisHead } from './spec';

/**
 * Where an answer token came from. 'task': the prompt is one the run's task asks (one of its eval splits)
 * and this is its true answer; 'given': the caller named it; 'predicted': the model's own top prediction
 * (a typed prompt the task does not know, or a model folder, which has no task).
 */
export type AnswerSource = 'task' | 'given' | 'predicted';

/**
 * What direct logit attribution decomposes. 'logit-diff' (the default): logit(answer) − logit(wrong),
 * TransformerLens's logit-difference direction W_U[:, answer] − W_U[:, wrong]; 'centred': logit(answer)
 * minus the mean logit over the vocabulary; 'logit': the raw logit(answer), which also carries what
 * every token shares (its components can all be negative while p(answer) = 1).
 */
export const DlaAttributionSchema = z.enum(['logit-diff', 'centred', 'logit']);
export type DlaAttribution = z.infer<typeof DlaAttributionSchema>;
export const DLA_ATTRIBUTIONS: readonly DlaAttribution[] = DlaAttributionSchema.options;

export interface LensAnalysis extends AnalysisHead {
  kind: 'logit-lens';
  tokens: string[];
  /** The answer token whose rank and probability are tracked (and attributed). */
  answer: string;
  answerSource: AnswerSource;
  /** The task's eval split the prompt belongs to, when its answer is known (answerSource 'task', or a given answer that is the task's). */
  split?: string;
  /** The model's top prediction at the position read, with its probability. */
  prediction: { token: string; prob: number };
  vocab: string[];
  lens: LogitLensResult;
  dla: DirectLogitAttributionResult;
  /**
   * What `dla` attributes, with both tokens named: for 'logit-diff' the wrong token and how it was
   * chosen ('task': the most likely other answer of the prompt's split; 'predicted': the model's most
   * likely token other than the answer; 'given': named by the caller).
   */
  attribution: { method: DlaAttribution; answer: string; wrong?: string; wrongSource?: AnswerSource };
}

/** `logit difference dist_1 − dist_0`, `centred logit dist_1 (minus the mean over the vocabulary)`, `logit dist_1`. */
export function attributionLabel(a: Pick<LensAnalysis, 'attribution'>): string {
  const t = a.attribution;
  if (t.method === 'logit-diff') return `logit difference ${t.answer} − ${t.wrong ?? '?'}`;
  if (t.method === 'centred') return `centred logit ${t.answer} (minus the mean logit over the vocabulary)`;
  return `logit ${t.answer} (raw)`;
}

/**
 * Prompt 0's lens as a hook × token table: rows are the hooks by depth, columns every token in some
 * hook's top-k plus the answer (the answer first, then by highest probability), values that token's
 * probability at that hook or NaN where the hook's top-k does not hold it.
 */
export function lensTable(a: Pick<LensAnalysis, 'lens' | 'vocab' | 'answer'>): { hooks: LensHook[]; columns: number[]; answerColumn: number; values: number[][] } {
  const hooks = [...a.lens.hooks].sort((x, y) => x.depth - y.depth);
  const best = new Map<number, number>();
  const see = (token: number, prob: number): void => void best.set(token, Math.max(best.get(token) ?? -Infinity, prob));
  for (const h of hooks) {
    const p = h.prompts[0];
    p?.top.forEach((t) => see(t.token, t.prob));
    if (p?.target) see(p.target.token, p.target.prob);
  }
  const answer = hooks.find((h) => h.prompts[0]?.target)?.prompts[0].target?.token ?? a.vocab.indexOf(a.answer);
  const rest = [...best.keys()].filter((t) => t !== answer).sort((x, y) => (best.get(y) as number) - (best.get(x) as number) || x - y);
  const columns = answer >= 0 ? [answer, ...rest] : rest;
  const values = hooks.map((h) => {
    const p = h.prompts[0];
    const prob = new Map<number, number>();
    p?.top.forEach((t) => prob.set(t.token, t.prob));
    if (p?.target) prob.set(p.target.token, p.target.prob);
    return columns.map((t) => prob.get(t) ?? NaN);
  });
  return { hooks, columns, answerColumn: answer >= 0 ? 0 : -1, values };
}

export function lensCsv(a: Pick<LensAnalysis, 'lens' | 'vocab' | 'answer'>): string {
  const t = lensTable(a);
  const rows: (string | number)[][] = [];
  t.hooks.forEach((h, r) =>
    t.columns.forEach((tok, c) => {
      const v = t.values[r][c];
      rows.push([h.hook, h.depth, a.vocab[tok] ?? tok, c === t.answerColumn ? 1 : 0, Number.isFinite(v) ? v : '', h.prompts[0]?.target?.rank ?? '']);
    }),
  );
  return toCsv(['hook', 'depth', 'token', 'is_answer', 'prob', 'answer_rank'], rows);
}

export interface DlaBar {
  label: string;
  kind: string;
  layer?: number;
  head?: number;
  value: number;
}

export interface DlaSummary {
  bars: DlaBar[];
  bias: number;
  /** The model's value of what is attributed (the logit difference, centred logit or logit). */
  logit: number;
  sum: number;
  method: DlaAttribution;
  /** The wrong token's name when logit differences are attributed. */
  baseline: string | null;
  /** `logit difference dist_1 − dist_0` (attributionLabel). */
  attribution: string;
  /** The CSV's name of the total row: total_logit_diff, total_centred_logit, total_logit. */
  totalLabel: string;
  position: number;
  layerNorm: 'none' | 'frozen-scale';
}

const TOTAL_ROW: Record<DlaAttribution, string> = { 'logit-diff': 'total_logit_diff', centred: 'total_centred_logit', logit: 'total_logit' };

/** Prompt 0's direct logit attribution. */
export function dlaSummary(a: Pick<LensAnalysis, 'dla' | 'vocab' | 'attribution'>): DlaSummary {
  const d = a.dla;
  return {
    bars: d.components.map((c) => ({ label: c.label, kind: c.kind, layer: c.layer, head: c.head, value: c.values[0] })),
    bias: d.bias[0],
    logit: d.logit[0],
    sum: d.sum[0],
    method: a.attribution.method,
    baseline: d.baseline ? (a.vocab[d.baseline[0]] ?? `#${d.baseline[0]}`) : null,
    attribution: attributionLabel(a),
    totalLabel: TOTAL_ROW[a.attribution.method],
    position: d.position,
    layerNorm: d.layerNorm,
  };
}

/**
 * Components, then bias, the model's total and Σ components + bias; every row names what is attributed
 * (`attribution`: `logit difference dist_1 − dist_0`), so an exported table says it on its own.
 */
export function dlaCsv(a: Pick<LensAnalysis, 'dla' | 'vocab' | 'attribution'>): string {
  const s = dlaSummary(a);
  const rows: unknown[][] = s.bars.map((b) => [b.label, b.kind, b.layer ?? '', b.head ?? '', b.value]);
  rows.push(['bias', 'bias', '', '', s.bias], [s.totalLabel, 'total', '', '', s.logit], ['sum', 'sum', '', '', s.sum]);
  return toCsv(['component', 'kind', 'layer', 'head', 'value', 'attribution'], rows.map((r) => [...r, s.attribution]));
}

export const logitLens = defineAnalysis({
  kind: 'logit-lens',
  summary: 'logit lens at every residual hook and direct logit attribution of the answer (logit difference answer − wrong)',
  args: z
    .object({
      step: Step,
      prompt: Prompt,
      answer: TokenName.describe('the answer token to track (default: the task’s true answer when the prompt is one of its eval prompts, else the model’s top prediction)'),
      wrong: TokenName.describe('the token direct logit attribution subtracts (default: the most likely other answer of the prompt’s split, else the model’s most likely token other than the answer)'),
      attribution: DlaAttributionSchema.optional()
        .describe('what direct logit attribution decomposes: logit-diff (logit(answer) − logit(wrong), the default), centred (logit(answer) − the mean logit) or logit (the raw logit)'),
      topK: z.number().int().min(1).max(50).optional().describe('top tokens kept per hook (default 5)'),
      position: Position,
    })
    .strict(),
  tables: {
    lens: { description: 'probability of the top tokens and the answer at each hook', csv: (a: LensAnalysis) => lensCsv(a) },
    dla: { description: 'direct logit attribution per component, with what is attributed', csv: (a: LensAnalysis) => dlaCsv(a) },
  },
});
