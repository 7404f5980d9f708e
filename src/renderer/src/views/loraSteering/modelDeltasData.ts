import type { LoraDeltasAnalysis } from '../../../../shared/api';
import { toCsv } from '../../../../shared/csv';

/**
 * Shaping for the model + adapter mode (the lora-deltas analysis of a Hugging Face model and a PEFT
 * adapter over texts you give): pure, DOM-free.
 */

export interface DeltaCosMatrix {
  values: number[][];
  /** `t2 ·cat@3`: text 2's token ·cat at position 3. */
  rowLabels: string[];
  /** Sample numbers, so many columns stay legible. */
  colLabels: string[];
  /** Index (into the matrix) where each text's tokens start, after the first. */
  textStarts: number[];
}

export function deltaCosMatrix(r: Pick<LoraDeltasAnalysis, 'tokens' | 'cos'>): DeltaCosMatrix {
  const tokens = r.cos.index.map((i) => r.tokens[i]);
  const textStarts = tokens.flatMap((t, i) => (i > 0 && t.text !== tokens[i - 1].text ? [i] : []));
  return {
    values: r.cos.values,
    rowLabels: tokens.map((t) => `t${t.text + 1} ${t.token}@${t.position}`),
    colLabels: tokens.map((_, i) => String(i + 1)),
    textStarts,
  };
}

/** Mean off-diagonal |cos| of the displayed sample, within texts and across them. */
export function sampleMeans(r: Pick<LoraDeltasAnalysis, 'tokens' | 'cos'>): { within: number; across: number } {
  const text = r.cos.index.map((i) => r.tokens[i].text);
  const acc = { within: [0, 0], across: [0, 0] };
  r.cos.values.forEach((row, i) =>
    row.forEach((v, j) => {
      if (i === j || !Number.isFinite(v)) return;
      const k = text[i] === text[j] ? 'within' : 'across';
      acc[k][0] += v;
      acc[k][1] += 1;
    }),
  );
  const mean = ([s, n]: number[]) => (n ? s / n : NaN);
  return { within: mean(acc.within), across: mean(acc.across) };
}

export const DELTA_STATS = [
  { key: 'pc1', label: 'PC1 share (uncentred)' },
  { key: 'pc1Centred', label: 'PC1 share (centred)' },
  { key: 'meanAbsCos', label: 'mean |cos|' },
] as const;

/** The "one direction" statistics over every token, as one bar group. */
export function deltaStatsRows(r: Pick<LoraDeltasAnalysis, 'summary'>): Record<string, string | number>[] {
  const s = r.summary;
  return [{ group: `${s.nTokens} tokens`, pc1: s.pc1VarRatio, pc1Centred: s.pc1VarRatioCentred, meanAbsCos: s.meanAbsCos }];
}

export function deltaStatsCsv(r: Pick<LoraDeltasAnalysis, 'id' | 'adapter' | 'hook' | 'summary' | 'naturalVectorNorm'>): string {
  const s = r.summary;
  return toCsv(
    ['model', 'adapter', 'hook', 'n_tokens', 'pc1_var_ratio', 'pc1_var_ratio_centred', 'mean_abs_cos', 'mean_delta_norm', 'natural_vector_norm', 'cos_pc1_mean'],
    [[r.id, r.adapter ?? '', r.hook, s.nTokens, s.pc1VarRatio, s.pc1VarRatioCentred, s.meanAbsCos, s.meanNorm, r.naturalVectorNorm, s.cosPc1Mean]],
  );
}

/** Delta norm per token, text by text (a bar per token; `n` numbers them when labels would not fit). */
export function normRows(r: Pick<LoraDeltasAnalysis, 'tokens'>): { label: string; n: string; norm: number; text: number }[] {
  return r.tokens.map((t, i) => ({ label: `t${t.text + 1} ${t.token}@${t.position}`, n: String(i + 1), norm: t.norm, text: t.text }));
}
