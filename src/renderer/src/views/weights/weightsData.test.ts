import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../../shared/api';
import { entropyEffectiveRank, frobeniusNorm, normalisedSpectrum, nuclearOverFrobenius, rankAbove } from '../../../../shared/analyses/ovSpectrum';
import { typeset } from '../../figure/text';
import { NUCLEAR_OVER_FROBENIUS_LABEL, SHAPE_LABEL } from './components/OvColumn';
import { xTickMargin } from './components/SeriesLineChart';
import { COMBINED, FACTORIZED } from './mocks/ovSpectrum';
import { COMBINED_FULL, FACTORIZED_R128_FULL, FACTORIZED_R8_FULL } from './mocks/fullSpectra';
import {
  defaultColumns,
  defaultCompared,
  drawnPoints,
  effectiveRank,
  entropyRankOf,
  headEntries,
  headSeries,
  headStats,
  log2Ticks,
  logSpan,
  nearestStepIndex,
  numericalRank,
  overTrainingRows,
  ranksCsv,
  shapeCsv,
  shapeDomain,
  shapeRows,
  summarise,
  unionSteps,
} from './weightsData';

/** CSV without quoted fields → rows of fields. */
const parseCsv = (csv: string) => csv.trim().split('\n').map((l) => l.split(','));
const last = (a: readonly number[]) => a.length - 1;
const final = (spec: typeof COMBINED_FULL) => spec.heads[0].singular_values[last(spec.steps)];

describe('normalisation: σ_k / σ₁', () => {
  it('divides by the largest value, so a rescaled matrix has the same normalised spectrum', () => {
    expect(normalisedSpectrum([4, 2, 1])).toEqual([1, 0.5, 0.25]);
    expect(normalisedSpectrum([400, 200, 100])).toEqual([1, 0.5, 0.25]);
    expect(normalisedSpectrum([0, 0])).toEqual([]);
    expect(normalisedSpectrum([])).toEqual([]);
  });
  it('rows per index, one key per series; numerical zeros and values past a series’ end are null', () => {
    const rows = shapeRows([
      { key: 'a', label: 'a', sv: [10, 5, 1e-14, 1e-15] },
      { key: 'b', label: 'b', sv: [2, 2] },
    ]);
    expect(rows).toEqual([
      { index: 1, a: 1, b: 1 },
      { index: 2, a: 0.5, b: 1 },
      { index: 3, a: null, b: null },
      { index: 4, a: null, b: null },
    ]);
  });
  it('the real r = 8 spectrum draws exactly its 8 values, the r = 128 and combined ones all 128', () => {
    const rows = shapeRows([FACTORIZED_R8_FULL, FACTORIZED_R128_FULL, COMBINED_FULL].map((s, i) => ({ key: `s${i}`, label: s.id, sv: final(s) })));
    expect(rows).toHaveLength(128);
    expect(drawnPoints(rows, 's0')).toBe(8);
    expect(drawnPoints(rows, 's1')).toBe(128);
    expect(drawnPoints(rows, 's2')).toBe(128);
    expect(rows[0]).toEqual({ index: 1, s0: 1, s1: 1, s2: 1 });
  });
  it('the log y domain is whole decades ending at 1, over every checkpoint', () => {
    expect(shapeDomain([FACTORIZED_R8_FULL])).toEqual([0.1, 1]); // σ₈/σ₁ ≈ 0.53
    expect(shapeDomain([FACTORIZED_R8_FULL, FACTORIZED_R128_FULL, COMBINED_FULL])).toEqual([1e-7, 1]); // σ₁₂₈/σ₁ of r = 128 at step 250 ≈ 1.2e-7
    expect(shapeDomain([undefined])).toEqual([0.01, 1]);
  });
});

describe('a log index axis keeps a rank-8 spectrum readable', () => {
  it('ticks at the powers of two, with n when it is not crowding one', () => {
    expect(log2Ticks(128)).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
    expect(log2Ticks(129)).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
    expect(log2Ticks(100)).toEqual([1, 2, 4, 8, 16, 32, 64, 100]);
  });
  it('points 1…8 span 3/7 of a log axis 1…128 (on a linear one: 7/127)', () => {
    expect(logSpan(8, 128)).toBeCloseTo(3 / 7, 12);
    expect(logSpan(8, 128)).toBeGreaterThan(1 / 3);
    expect(logSpan(1, 128)).toBe(0);
  });
});

describe('effective rank (Roy & Vetterli 2007): exp of the entropy of σ/Σσ', () => {
  it('k equal values give k, whatever their scale', () => {
    expect(entropyEffectiveRank([1, 1, 1, 1, 1, 1, 1, 1])).toBeCloseTo(8, 12);
    expect(entropyEffectiveRank(Array(128).fill(0.3))).toBeCloseTo(128, 9);
    expect(entropyEffectiveRank([5])).toBeCloseTo(1, 12);
  });
  it('zeros do not count; a zero matrix is 0', () => {
    expect(entropyEffectiveRank([2, 2, 0, 0])).toBeCloseTo(2, 12);
    expect(entropyEffectiveRank([0, 0])).toBe(0);
    expect(entropyEffectiveRank([])).toBe(0);
  });
  it('a known unequal spectrum: p = (1/2, 1/4, 1/4) → exp(1.5 ln 2) = 2√2', () => {
    expect(entropyEffectiveRank([2, 1, 1])).toBeCloseTo(2 * Math.SQRT2, 12);
  });
  it('is not a count: one dominant value and a long flat tail still score high', () => {
    // σ₁ = 100 and 40 values of 8 (roughly the combined run): the tail carries 3/4 of Σσ.
    const r = entropyEffectiveRank([100, ...Array(40).fill(8)]);
    expect(r).toBeGreaterThan(20);
    expect(rankAbove([100, ...Array(40).fill(8)])).toBe(41);
  });
});

describe('threshold rank and the norm ratio', () => {
  it('counts values above 1% of σ₁ (strictly)', () => {
    expect(rankAbove([1, 0.5, 0.011, 0.01, 0.001])).toBe(3);
    expect(rankAbove([1, 0.5, 0.2], 0.3)).toBe(2);
    expect(rankAbove([0, 0])).toBe(0);
  });
  it('‖W‖_* / ‖W‖_F is 1 for rank one and √r for r equal values', () => {
    expect(frobeniusNorm([3, 4])).toBe(5);
    expect(nuclearOverFrobenius([7, 0, 0])).toBe(1);
    expect(nuclearOverFrobenius([2, 2, 2, 2])).toBeCloseTo(2, 12);
    expect(nuclearOverFrobenius([0])).toBeNaN();
  });
  it('the 90% rank counts the values holding 90% of Σσ (the old “effective rank”, kept in the CSV)', () => {
    expect(effectiveRank([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])).toBe(9);
    expect(effectiveRank([10, 0.5, 0.5])).toBe(1);
    expect(effectiveRank([3, 1], 4)).toBe(2);
    expect(effectiveRank([])).toBe(0);
  });
  it('numerical rank ignores float64 round-off relative to σ₁', () => {
    expect(numericalRank([10, 1, 1e-13, 1e-15])).toBe(2);
    expect(numericalRank([0, 0])).toBe(0);
  });
});

describe('the three example runs at step 2000', () => {
  const r8 = summarise(final(FACTORIZED_R8_FULL));
  const r128 = summarise(final(FACTORIZED_R128_FULL));
  const comb = summarise(final(COMBINED_FULL));
  it('effective ranks 7.84 (r = 8), 29.85 (r = 128), 33.53 (combined)', () => {
    expect(r8.entropyRank).toBeCloseTo(7.837, 2);
    expect(r128.entropyRank).toBeCloseTo(29.849, 2);
    expect(comb.entropyRank).toBeCloseTo(33.526, 2);
  });
  it('values above 1% of σ₁: 8, 42, 41; ‖W‖_*/‖W‖_F: 2.77, 4.86, 3.43', () => {
    expect([r8.rank1pct, r128.rank1pct, comb.rank1pct]).toEqual([8, 42, 41]);
    expect(r8.nuclearOverFrobenius).toBeCloseTo(2.77, 2);
    expect(r128.nuclearOverFrobenius).toBeCloseTo(4.86, 2);
    expect(comb.nuclearOverFrobenius).toBeCloseTo(3.43, 2);
  });
  it('the r = 8 run’s numerical zeros do not enter its ranks; raw norms are kept', () => {
    expect(r8.numericalRank).toBe(8);
    expect(r8.size).toBe(128);
    expect(r8.nuclear).toBeCloseTo(FACTORIZED_R8_FULL.heads[0].nuclear_norm[1], 1);
    expect(r8.sigma1).toBe(final(FACTORIZED_R8_FULL)[0]);
  });
  it('effective rank over training: one row per step, null where a run has no checkpoint', () => {
    const rows = overTrainingRows([...headEntries(FACTORIZED_R128_FULL, () => 'a'), { key: 'b', steps: [2000], sv: [[1, 1]] }], entropyRankOf);
    expect(rows.map((r) => r.step)).toEqual([250, 2000]);
    expect(rows[0].a).toBeCloseTo(32.83, 1);
    expect(rows[1].a).toBeCloseTo(29.85, 1);
    expect(rows[0].b).toBeNull();
    expect(rows[1].b).toBeCloseTo(2, 12);
  });
});

describe('headStats (a column’s stat line)', () => {
  it('per head, on the trimmed fixtures too', () => {
    const f = headStats(FACTORIZED, last(FACTORIZED.steps))[0];
    expect(f.label).toBe('L0H0');
    expect(f.numericalRank).toBe(8);
    expect(f.entropyRank).toBeGreaterThan(7);
    expect(f.entropyRank).toBeLessThanOrEqual(8);
    expect(headSeries(COMBINED, 0).map((s) => s.key)).toEqual(['h0']);
  });
});

describe('steps', () => {
  it('unions and sorts the runs’ steps', () => {
    expect(unionSteps([250, 1000, 2000], [500, 1000], undefined)).toEqual([250, 500, 1000, 2000]);
  });
  it('finds the nearest checkpoint, earlier on ties', () => {
    expect(nearestStepIndex([250, 1000, 2000], 2000)).toBe(2);
    expect(nearestStepIndex([250, 1000, 2000], 700)).toBe(1);
    expect(nearestStepIndex([250, 1000, 2000], 625)).toBe(0);
    expect(nearestStepIndex([], 5)).toBe(-1);
  });
});

describe('default runs', () => {
  const run = (id: string, task?: string, checkpoints = 3, extra: Partial<RunSummary> = {}): RunSummary => ({ id, checkpoints, ...(task ? { task } : {}), ...extra });
  const accept = (r: RunSummary) => (r.checkpoints ?? 0) > 0 && !r.finetune;
  it('columns: factorized left, combined right', () => {
    const runs = [run('a'), run('comb'), run('fact'), run('ft', undefined, 0, { finetune: 'lora' })];
    expect(defaultColumns(runs, { a: 'factorized', comb: 'combined', fact: 'factorized' }, accept)).toEqual(['a', 'comb']);
  });
  it('columns fall back to the first two admissible runs', () => {
    expect(defaultColumns([run('x'), run('y')], { x: 'factorized', y: null }, accept)).toEqual(['x', 'y']);
    expect(defaultColumns([run('x')], { x: 'combined' }, accept)).toEqual(['x', 'x']);
    expect(defaultColumns([run('x', undefined, 0)], {}, accept)).toEqual([null, null]);
  });
  it('compared: every run of the left run’s task with a known OV form, factorized first', () => {
    const runs = [run('ocr-combined', 'ocr-recall'), run('ocr-factorized', 'ocr-recall'), run('ocr-factorized-r128', 'ocr-recall'), run('two-hop', 'two-hop'), run('broken', 'ocr-recall', 0)];
    const ov = { 'ocr-combined': 'combined', 'ocr-factorized': 'factorized', 'ocr-factorized-r128': 'factorized', 'two-hop': 'combined', broken: 'factorized' };
    expect(defaultCompared(runs, ov, accept, 'ocr-factorized', 'ocr-combined')).toEqual(['ocr-factorized', 'ocr-factorized-r128', 'ocr-combined']);
    expect(defaultCompared(runs, ov, accept, null)).toEqual([]);
    expect(defaultCompared([run('x'), run('y')], {}, accept, 'x', 'y')).toEqual(['x', 'y']);
  });
});

describe('CSV', () => {
  it('spectra: raw σ_k beside σ_k/σ₁ and σ_k/Σσ, one row per run, step, head and index', () => {
    const rows = parseCsv(shapeCsv([{ run: 'ocr-factorized', spec: FACTORIZED_R8_FULL, stepIndex: 1 }]));
    expect(rows[0]).toEqual(['run', 'step', 'layer', 'head', 'index', 'singular_value', 'sigma_over_sigma1', 'sigma_over_sum']);
    expect(rows).toHaveLength(1 + 128);
    const sv = final(FACTORIZED_R8_FULL);
    expect(rows[1]).toEqual(['ocr-factorized', '2000', '0', '0', '1', String(sv[0]), '1', String(sv[0] / sv.reduce((a, b) => a + b, 0))]);
    expect(Number(rows[2][6])).toBeCloseTo(sv[1] / sv[0], 12);
    expect(parseCsv(shapeCsv([{ run: 'a', spec: FACTORIZED_R8_FULL }, { run: 'b', spec: COMBINED_FULL }]))).toHaveLength(1 + 2 * 2 * 128);
  });
  it('ranks: the raw norms are kept beside the scale-free summaries', () => {
    const rows = parseCsv(ranksCsv([{ run: 'ocr-combined', spec: COMBINED_FULL }]));
    expect(rows[0]).toEqual(['run', 'step', 'layer', 'head', 'nuclear_norm', 'frobenius_norm', 'sigma_1', 'nuclear_over_frobenius', 'effective_rank_entropy', 'rank_above_1pct_sigma1', 'rank_90pct_nuclear', 'numerical_rank']);
    expect(rows.slice(1).map((r) => r[1])).toEqual(['250', '2000']);
    expect(Number(rows[2][4])).toBe(COMBINED_FULL.heads[0].nuclear_norm[1]);
    expect(Number(rows[2][8])).toBeCloseTo(33.53, 1);
    expect(rows[2][9]).toBe('41');
    expect(rows[2][10]).toBe('40');
  });
});

describe('chart typography', () => {
  it('axis titles come from the shared labels, with σ subscripts the figure font sets (not σ_k, not ||W||)', () => {
    expect(SHAPE_LABEL).toBe('σₖ / σ₁');
    expect(typeset(SHAPE_LABEL)).toEqual([
      { text: 'σ', shift: 'none' },
      { text: 'k', shift: 'sub' },
      { text: ' / σ', shift: 'none' },
      { text: '1', shift: 'sub' },
    ]);
    expect(NUCLEAR_OVER_FROBENIUS_LABEL).toBe('nuclear / Frobenius norm');
  });
  it('x tick labels sit far enough below the axis that the first never meets the lowest y label at the origin', () => {
    for (const fs of [12, 14, 8 * 1.75, 24]) {
      // An x label's glyphs start about 0.2 em above its top (tick 6 + margin); a y label centred on the axis reaches 0.57 em below it.
      expect(6 + xTickMargin(fs) - 0.195 * fs).toBeGreaterThan(0.567 * fs);
    }
    expect(xTickMargin(6)).toBe(2);
  });
});
