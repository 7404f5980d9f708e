import { z } from 'zod';
import type { HeadPatchingResult, ResidualPatchingResult } from '../analysis';
import { toCsv } from '../csv';
import { Prompt, Step, TokenName } from './fields';
import { defineAnalysis, type AnalysisHead } from './spec';

export interface PatchingAnalysis extends AnalysisHead {
  kind: 'patching';
  tokens: string[];
  corrupted: string[];
  answer: string;
  wrong: string;
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
      corrupt: Prompt.describe('the corrupted prompt, same length (default: the clean prompt with one entity token swapped so the prediction changes)'),
      answer: TokenName.describe('the answer token (default: the top prediction on the clean prompt)'),
      wrong: TokenName.describe('the competing token (default: the top prediction on the corrupted prompt)'),
    })
    .strict(),
  tables: {
    residual: { description: 'residual stream patching by layer and position', csv: (p: PatchingAnalysis) => residPatchingCsv(p) },
    heads: { description: 'patching of each head’s output (hook_z, all positions)', csv: (p: PatchingAnalysis) => headPatchingCsv(p) },
  },
});
