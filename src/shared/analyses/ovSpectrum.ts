import { z } from 'zod';
import type { OvSpectrum } from '../analysis';
import { toCsv } from '../csv';
import { defineAnalysis } from './spec';

export interface OvSpectrumAnalysis extends OvSpectrum {
  kind: 'ov-spectrum';
  id: string;
  /** 'factorized' (W_O W_V of rank ≤ ovRank) or 'combined' (one W_OV). */
  ov: string;
  ovRank?: number;
}

/** Share of the nuclear norm the effective rank must reach. */
export const EFFECTIVE_RANK_SHARE = 0.9;

/**
 * Smallest k with σ₁ + … + σ_k ≥ share · ‖W‖_* (the nuclear norm; pass it when `sv` may be
 * truncated by `top`). 0 for an all-zero matrix.
 */
export function effectiveRank(sv: readonly number[], nuclear?: number, share = EFFECTIVE_RANK_SHARE): number {
  const total = nuclear ?? sv.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return 0;
  let acc = 0;
  for (let k = 0; k < sv.length; k++) {
    acc += sv[k];
    if (acc >= share * total * (1 - 1e-12)) return k + 1;
  }
  return sv.length;
}

/** The spectrum restricted to one checkpoint (by index into `steps`). */
export function spectrumAtStep<S extends OvSpectrum>(s: S, stepIndex: number): S {
  return { ...s, steps: s.steps.slice(stepIndex, stepIndex + 1), heads: s.heads.map((h) => ({ ...h, singular_values: h.singular_values.slice(stepIndex, stepIndex + 1), nuclear_norm: h.nuclear_norm.slice(stepIndex, stepIndex + 1) })) };
}

/** Singular values per head and step (raw values, numerical zeros included); index from 1. */
export function spectrumCsv(s: Pick<OvSpectrumAnalysis, 'id' | 'steps' | 'heads'>): string {
  const rows: unknown[][] = [];
  for (const h of s.heads) s.steps.forEach((step, j) => (h.singular_values[j] ?? []).forEach((v, k) => rows.push([s.id, step, h.layer, h.head, k + 1, v])));
  return toCsv(['run', 'step', 'layer', 'head', 'index', 'singular_value'], rows);
}

/** Nuclear norm per head and step, with the effective rank beside it. */
export function nuclearCsv(s: Pick<OvSpectrumAnalysis, 'id' | 'steps' | 'heads'>): string {
  const rows: unknown[][] = [];
  for (const h of s.heads) s.steps.forEach((step, j) => rows.push([s.id, step, h.layer, h.head, h.nuclear_norm[j], effectiveRank(h.singular_values[j] ?? [], h.nuclear_norm[j])]));
  return toCsv(['run', 'step', 'layer', 'head', 'nuclear_norm', 'effective_rank_90'], rows);
}

export const ovSpectrum = defineAnalysis({
  kind: 'ov-spectrum',
  summary: 'singular values and nuclear norm of each head’s W_O W_V at every checkpoint',
  args: z
    .object({
      step: z.number().int().min(0).max(1e9).optional().describe('only this checkpoint step (default: every checkpoint)'),
      top: z.number().int().min(1).max(4096).optional().describe('keep the top k singular values (default: all)'),
    })
    .strict(),
  tables: {
    spectrum: { description: 'singular values per head and step', csv: (s: OvSpectrumAnalysis) => spectrumCsv(s) },
    nuclear: { description: 'nuclear norm and effective rank per head and step', csv: (s: OvSpectrumAnalysis) => nuclearCsv(s) },
  },
});
