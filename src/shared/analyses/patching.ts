import { z } from 'zod';
import type { HeadPatchingResult, ResidualPatchingResult } from '../analysis';
import { toCsv } from '../csv';
import { Prompt, Step, TokenName } from './fields';
import type { AnswerSource } from './logitLens';
import { defineAnalysis, type AnalysisHead } from './spec';

/**
 * How the corrupted prompt was chosen. 'given': the caller typed it; 'answer-swap': the clean prompt with
 * one content token swapped (the subject first) so that the task's true answer changes; 'prediction-swap':
 * one token swapped so that the model's prediction changes (the clean prompt's answer is not known to the
 * task); 'eval-prompt': the task's eval prompt of the same length, closest to the clean one, with another
 * prediction.
 */
export type CorruptionSource = 'given' | 'answer-swap' | 'prediction-swap' | 'eval-prompt';

export interface PatchingAnalysis extends AnalysisHead {
  kind: 'patching';
  tokens: string[];
  corrupted: string[];
  /** The clean answer: the metric's logit difference is logit(answer) − logit(wrong). */
  answer: string;
  /** The competing token: by default the corrupted prompt's answer. */
  wrong: string;
  /** 'task': the clean prompt's true answer; 'predicted': the model's top prediction on it; 'given'. */
  answerSource: AnswerSource;
  /** 'task': the corrupted prompt's true answer; 'predicted': the model's top prediction on it; 'given'. */
  wrongSource: AnswerSource;
  /** The task's eval splits of the two prompts, where the task knows them. */
  splits: { clean?: string; corrupted?: string };
  /** The model's top predictions on the clean and corrupted prompts. */
  predictions: { clean: string; corrupted: string };
  corruption: CorruptionSource;
  residual: ResidualPatchingResult;
  heads: HeadPatchingResult;
}

export function residPatchingCsv(p: Pick<PatchingAnalysis, 'residual' | 'tokens' | 'corrupted'>): string {
  const rows: unknown[][] = [];
  p.residual.metric.forEach((r, l) => r.forEach((v, t) => rows.push([p.residual.hook, l, t, p.tokens[t], p.corrupted[t], v])));
  return toCsv(['hook', 'layer', 'position', 'clean_token', 'corrupted_token', 'metric'], rows);
}

export function headPatchingCsv(p: Pick<PatchingAnalysis, 'heads'>): string {
  const rows: unknown[][] = [];
  p.heads.metric.forEach((r, l) => r.forEach((v, h) => rows.push([l, h, `L${l}H${h}`, v])));
  return toCsv(['layer', 'head', 'label', 'metric'], rows);
}

export const patching = defineAnalysis({
  kind: 'patching',
  summary: 'activation patching of the residual stream (layer × position) and of each head',
  args: z
    .object({
      step: Step,
      prompt: Prompt,
      corrupt: Prompt.describe('the corrupted prompt, same length (default: the clean prompt with its subject swapped for one whose true answer differs; where the task does not know the answer, one entity token swapped so the prediction changes)'),
      answer: TokenName.describe('the clean answer (default: the task’s true answer of the clean prompt, else the top prediction on it)'),
      wrong: TokenName.describe('the competing token (default: the corrupted prompt’s true answer, else the top prediction on it)'),
    })
    .strict(),
  tables: {
    residual: { description: 'residual stream patching by layer and position', csv: (p: PatchingAnalysis) => residPatchingCsv(p) },
    heads: { description: 'patching of each head’s output (hook_z, all positions)', csv: (p: PatchingAnalysis) => headPatchingCsv(p) },
  },
});
