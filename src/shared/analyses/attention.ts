import { z } from 'zod';
import type { AttentionPatternsResult } from '../analysis';
import { toCsv } from '../csv';
import { LayerList, Prompt, Step } from './fields';
import { defineAnalysis, type AnalysisHead } from './spec';

export interface AttentionAnalysis extends AnalysisHead, AttentionPatternsResult {
  kind: 'attention';
  /** The prompt's token names, [T]. */
  tokens: string[];
}

export const ATTENTION_CSV_HEADER = ['layer', 'head', 'query', 'query_token', 'key', 'key_token', 'weight'] as const;

/** One row per (layer, head, query, key) of prompt 0's patterns. */
export function attentionCsv(tokens: readonly string[], patterns: readonly { layer: number; head: number; values: readonly (readonly number[])[] }[]): string {
  const rows: (string | number)[][] = [];
  for (const p of patterns) p.values.forEach((row, q) => row.forEach((v, k) => rows.push([p.layer, p.head, q, tokens[q], k, tokens[k], v])));
  return toCsv(ATTENTION_CSV_HEADER, rows);
}

/** Every layer × head pattern of prompt 0, head-major. */
export function attentionPatternsOf(a: Pick<AttentionAnalysis, 'layers'>): { layer: number; head: number; values: number[][] }[] {
  return a.layers.flatMap((L) => L.heads.map((hd, head) => ({ layer: L.layer, head, values: hd[0] })));
}

export const attention = defineAnalysis({
  kind: 'attention',
  summary: 'attention patterns of every layer and head on one prompt',
  args: z.object({ step: Step, prompt: Prompt, layers: LayerList }).strict(),
  tables: {
    patterns: { description: 'layer, head, query, key, weight', csv: (a: AttentionAnalysis) => attentionCsv(a.tokens, attentionPatternsOf(a)) },
  },
});
