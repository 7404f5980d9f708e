import { z } from 'zod';
import type { DeltaSummary } from '../analysis';
import { toCsv } from '../csv';
import { defineAnalysis, type AnalysisHead } from './spec';

/** One token of one text, with the norm of its delta. */
export interface LoraDeltaToken {
  /** Index into `texts`. */
  text: number;
  position: number;
  /** The token's label (decoded text with visible spaces: '·cat'). */
  token: string;
  /** ‖resid(adapted) − resid(base)‖ at this token. */
  norm: number;
}

/**
 * A PEFT LoRA adapter's effect on the residual stream of a model over texts you give (arXiv
 * 2507.08218's test of whether a LoRA acts as a steering vector): the per-token delta
 * resid(adapted) − resid(base) at `hook`, how aligned the deltas are (|cos|), how much of them one
 * direction holds (PC1 share), and that direction as a "natural steering vector".
 */
export interface LoraDeltasAnalysis extends AnalysisHead {
  kind: 'lora-deltas';
  /** blocks.{layer}.hook_resid_post */
  hook: string;
  layer: number;
  /** Layers the adapter adapts. */
  adapterLayers: number[];
  texts: string[];
  /** Every token of every text, text by text. */
  tokens: LoraDeltaToken[];
  /** Over every token: mean |cos|, PC1 shares, mean norm, the natural vector (PC1 sign-aligned with the mean delta, scaled to the mean norm). */
  summary: DeltaSummary;
  /** ‖natural vector‖ (= the mean delta norm). */
  naturalVectorNorm: number;
  /** The |cos| matrix over a display sample of tokens (indices into `tokens`, spread over every text and position range). */
  cos: { index: number[]; values: number[][] };
}

/** Most tokens of all texts together (the PCA and the full |cos| mean grow with it). */
export const LORA_DELTAS_MAX_TOKENS = 2048;

/** One row per pair of sampled tokens (the plotted matrix, long form). */
export function loraCosCsv(a: Pick<LoraDeltasAnalysis, 'tokens' | 'cos'>): string {
  const rows: unknown[][] = [];
  const { index, values } = a.cos;
  index.forEach((ti, i) =>
    index.forEach((tj, j) => {
      const p = a.tokens[ti];
      const q = a.tokens[tj];
      rows.push([i, j, p.text, p.position, p.token, q.text, q.position, q.token, values[i][j]]);
    }),
  );
  return toCsv(['row', 'col', 'row_text', 'row_position', 'row_token', 'col_text', 'col_position', 'col_token', 'abs_cos'], rows);
}

/** One row per token: its text, position, label and delta norm. */
export function loraNormsCsv(a: Pick<LoraDeltasAnalysis, 'tokens'>): string {
  return toCsv(['text', 'position', 'token', 'delta_norm'], a.tokens.map((t) => [t.text, t.position, t.token, t.norm]));
}

/** The natural steering vector, one row per residual dimension. */
export function loraNaturalCsv(a: Pick<LoraDeltasAnalysis, 'summary'>): string {
  return toCsv(['dim', 'value'], a.summary.naturalVector.map((v, i) => [i, v]));
}

export const loraDeltas = defineAnalysis({
  kind: 'lora-deltas',
  summary: 'per-token residual deltas of a model + PEFT LoRA adapter over texts: |cos| matrix, PC1 share and the natural steering vector',
  args: z
    .object({
      texts: z
        .array(z.string().min(1).max(4000))
        .min(1)
        .max(256)
        .describe(`texts to run through the base and the adapted model (every token counts; at most ${LORA_DELTAS_MAX_TOKENS} tokens in all). CLI: --texts-file FILE (one text per line, or JSONL)`),
      layer: z.number().int().min(0).max(1000).optional().describe('read blocks.LAYER.hook_resid_post (default: the last layer the adapter adapts)'),
      sample: z.number().int().min(2).max(512).default(128).describe('tokens in the displayed |cos| matrix, spread over every text and position (default 128)'),
    })
    .strict(),
  tables: {
    cos: { description: '|cos| between the sampled tokens’ deltas (long form)', csv: (a: LoraDeltasAnalysis) => loraCosCsv(a) },
    norms: { description: 'delta norm of every token', csv: (a: LoraDeltasAnalysis) => loraNormsCsv(a) },
    natural: { description: 'the natural steering vector', csv: (a: LoraDeltasAnalysis) => loraNaturalCsv(a) },
  },
});
