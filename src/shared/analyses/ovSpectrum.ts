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

/** Share of the nuclear norm `effectiveRank` must reach. */
export const EFFECTIVE_RANK_SHARE = 0.9;

/**
 * The "90% rank": smallest k with σ₁ + … + σ_k ≥ share · ‖W‖_* (the nuclear norm; pass it when `sv` may be
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

// ─── Scale-free summaries ─────────────────────────────────────────────────────────────────────────
// The raw singular values of W_O W_V are not comparable across parametrisations: the factorized and the
// combined model (and factorized models of different rank) reach the same logits with W_Q and W_OV at
// different scales. These summaries do not change when W_OV is multiplied by a constant, so they
// compare the *shape* of the spectra. Pass the complete spectrum (no `top`).

/** σ_k / σ₁ (σ₁ the largest value): every spectrum starts at 1, so spectra compare by their decay. [] for a zero matrix. */
export function normalisedSpectrum(sv: readonly number[]): number[] {
  const s1 = Math.max(0, ...sv);
  return s1 > 0 ? sv.map((s) => s / s1) : [];
}

/**
 * Effective rank of Roy & Vetterli (2007): exp(H(p)) with p_k = σ_k / Σσ and H the Shannon entropy
 * (natural log). k equal non-zero values give exactly k; it lies between 1 and the rank, and is not a
 * count: a spectrum with a dominant σ₁ and a long flat tail can score high. 0 for a zero matrix.
 */
export function entropyEffectiveRank(sv: readonly number[]): number {
  const total = sv.reduce((a, s) => a + (s > 0 ? s : 0), 0);
  if (!(total > 0)) return 0;
  let h = 0;
  for (const s of sv) {
    if (!(s > 0)) continue;
    const p = s / total;
    h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/** Default threshold of `rankAbove`: singular values above 1% of σ₁. */
export const RANK_THRESHOLD = 0.01;

/** How many singular values exceed `rel` · σ₁ (a threshold rank; 0 for a zero matrix). */
export function rankAbove(sv: readonly number[], rel = RANK_THRESHOLD): number {
  const s1 = Math.max(0, ...sv);
  return s1 > 0 ? sv.filter((s) => s > rel * s1).length : 0;
}

/** ‖W‖_F = √(Σ σ_k²). */
export function frobeniusNorm(sv: readonly number[]): number {
  return Math.sqrt(sv.reduce((a, s) => a + s * s, 0));
}

/**
 * ‖W‖_* / ‖W‖_F: scale-free, between 1 (rank one) and √rank (all non-zero values equal). The nuclear
 * norm itself depends on the parametrisation's scale; this ratio does not. NaN for a zero matrix.
 */
export function nuclearOverFrobenius(sv: readonly number[]): number {
  const f = frobeniusNorm(sv);
  return f > 0 ? sv.reduce((a, s) => a + Math.abs(s), 0) / f : NaN;
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
