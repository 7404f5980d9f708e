import { z } from 'zod';
import type { DirectLogitAttributionResult, LensHook, LogitLensResult } from '../analysis';
import { toCsv } from '../csv';
import { Position, Prompt, Step, TokenName } from './fields';
import { defineAnalysis, type AnalysisHead } from './spec';

export interface LensAnalysis extends AnalysisHead {
  kind: 'logit-lens';
  tokens: string[];
  /** The answer token whose rank and probability are tracked. */
  answer: string;
  vocab: string[];
  lens: LogitLensResult;
  dla: DirectLogitAttributionResult;
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
  logit: number;
  sum: number;
  /** The baseline token's name when logit differences are attributed. */
  baseline: string | null;
  position: number;
  layerNorm: 'none' | 'frozen-scale';
}

/** Prompt 0's direct logit attribution. */
export function dlaSummary(a: Pick<LensAnalysis, 'dla' | 'vocab'>): DlaSummary {
  const d = a.dla;
  return {
    bars: d.components.map((c) => ({ label: c.label, kind: c.kind, layer: c.layer, head: c.head, value: c.values[0] })),
    bias: d.bias[0],
    logit: d.logit[0],
    sum: d.sum[0],
    baseline: d.baseline ? (a.vocab[d.baseline[0]] ?? `#${d.baseline[0]}`) : null,
    position: d.position,
    layerNorm: d.layerNorm,
  };
}

export function dlaCsv(a: Pick<LensAnalysis, 'dla' | 'vocab'>): string {
  const s = dlaSummary(a);
  const rows: unknown[][] = s.bars.map((b) => [b.label, b.kind, b.layer ?? '', b.head ?? '', b.value]);
  rows.push(['bias', 'bias', '', '', s.bias], ['total_logit', 'total', '', '', s.logit], ['sum', 'sum', '', '', s.sum]);
  return toCsv(['component', 'kind', 'layer', 'head', 'value'], rows);
}

export const logitLens = defineAnalysis({
  kind: 'logit-lens',
  summary: 'logit lens at every residual hook and direct logit attribution of the answer',
  args: z
    .object({
      step: Step,
      prompt: Prompt,
      answer: TokenName.describe('the answer token to track (default: the model’s top prediction on the prompt)'),
      topK: z.number().int().min(1).max(50).optional().describe('top tokens kept per hook (default 5)'),
      position: Position,
    })
    .strict(),
  tables: {
    lens: { description: 'probability of the top tokens and the answer at each hook', csv: (a: LensAnalysis) => lensCsv(a) },
    dla: { description: 'direct logit attribution per component', csv: (a: LensAnalysis) => dlaCsv(a) },
  },
});
