import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../../shared/api';
import { COMBINED, FACTORIZED } from './mocks/ovSpectrum';
import { decadeDomain, linearDomain, unionDomain } from '../../figure/axes';
import { defaultColumns, effectiveRank, headStats, nearestStepIndex, nuclearCsv, nuclearRows, numericalRank, spectrumCsv, spectrumExtent, spectrumRows, unionSteps } from './weightsData';

/** CSV without quoted fields → rows of fields. */
const parseCsv = (csv: string) => csv.trim().split('\n').map((l) => l.split(','));
const last = (a: readonly number[]) => a.length - 1;

describe('effectiveRank', () => {
  it('counts the singular values holding 90% of the nuclear norm', () => {
    expect(effectiveRank([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])).toBe(9);
    expect(effectiveRank([10, 0.5, 0.5])).toBe(1);
    expect(effectiveRank([5, 4, 1])).toBe(2);
  });
  it('uses the given nuclear norm when the list is truncated', () => {
    // 12 values of 1 shown out of 128: 90% of 128 is never reached → all shown.
    expect(effectiveRank(Array(12).fill(1), 128)).toBe(12);
    expect(effectiveRank([3, 1], 4)).toBe(2);
  });
  it('is 0 for a zero matrix and exact at the threshold', () => {
    expect(effectiveRank([0, 0])).toBe(0);
    expect(effectiveRank([])).toBe(0);
    expect(effectiveRank([9, 1])).toBe(1);
  });
  it('separates the real factorized (low rank) and combined (high rank) runs', () => {
    const f = headStats(FACTORIZED, last(FACTORIZED.steps))[0];
    const c = headStats(COMBINED, last(COMBINED.steps))[0];
    expect(f.numericalRank).toBe(8);
    expect(f.effectiveRank).toBeLessThanOrEqual(8);
    expect(f.effectiveRank).toBeGreaterThanOrEqual(6);
    // Only 12 of 128 values are in the fixture; the nuclear norm needs many more.
    expect(c.effectiveRank).toBe(12);
    expect(c.label).toBe('L0H0');
    expect(c.nuclear).toBe(COMBINED.heads[0].nuclear_norm[2]);
  });
});

describe('numericalRank', () => {
  it('ignores float64 round-off relative to σ₁', () => {
    expect(numericalRank([10, 1, 1e-13, 1e-15])).toBe(2);
    expect(numericalRank([0, 0])).toBe(0);
    expect(numericalRank([])).toBe(0);
  });
});

describe('steps', () => {
  it('unions and sorts the columns’ steps', () => {
    expect(unionSteps([250, 1000, 2000], [500, 1000], undefined)).toEqual([250, 500, 1000, 2000]);
  });
  it('finds the nearest checkpoint, earlier on ties', () => {
    expect(nearestStepIndex([250, 1000, 2000], 2000)).toBe(2);
    expect(nearestStepIndex([250, 1000, 2000], 700)).toBe(1);
    expect(nearestStepIndex([250, 1000, 2000], 625)).toBe(0);
    expect(nearestStepIndex([], 5)).toBe(-1);
  });
});

describe('spectrumRows', () => {
  it('rows are 1-based indices with one key per head; numerical zeros are null', () => {
    const rows = spectrumRows(FACTORIZED, 2);
    expect(rows).toHaveLength(12);
    expect(rows[0]).toEqual({ index: 1, h0: FACTORIZED.heads[0].singular_values[2][0] });
    expect(rows[7].h0).toBeGreaterThan(1);
    expect(rows[8].h0).toBeNull();
    expect(rows[11].h0).toBeNull();
  });
  it('keeps the first `top` values', () => {
    expect(spectrumRows(COMBINED, 0, 5).map((r) => r.index)).toEqual([1, 2, 3, 4, 5]);
    expect(spectrumRows(COMBINED, 0, 5).every((r) => typeof r.h0 === 'number')).toBe(true);
  });
  it('handles several heads of different lengths', () => {
    const two = { steps: [1], heads: [{ layer: 0, head: 0, singular_values: [[2, 1]], nuclear_norm: [3] }, { layer: 0, head: 1, singular_values: [[4]], nuclear_norm: [4] }] };
    expect(spectrumRows(two, 0)).toEqual([
      { index: 1, h0: 2, h1: 4 },
      { index: 2, h0: 1, h1: null },
    ]);
  });
});

describe('nuclearRows', () => {
  it('one row per step', () => {
    const rows = nuclearRows(COMBINED);
    expect(rows.map((r) => r.step)).toEqual(COMBINED.steps);
    expect(rows[2].h0).toBe(COMBINED.heads[0].nuclear_norm[2]);
  });
});

describe('domains', () => {
  it('log domains span whole decades over every step', () => {
    const ext = spectrumExtent(FACTORIZED);
    expect(ext).not.toBeNull();
    expect(ext?.[0]).toBeGreaterThan(1);
    expect(decadeDomain(ext)).toEqual([10, 100]);
  });
  it('shared y-axis takes the union', () => {
    const shared = unionDomain(decadeDomain(spectrumExtent(FACTORIZED)), decadeDomain(spectrumExtent(COMBINED)));
    expect(shared?.[0]).toBeLessThanOrEqual(1);
    expect(shared?.[1]).toBe(1000);
  });
  it('linear domains start at 0 with a nice top', () => {
    expect(linearDomain(nuclearRows(FACTORIZED), 'step')).toEqual([0, 600]);
  });
});

describe('defaultColumns', () => {
  const run = (id: string, checkpoints = 3, extra: Partial<RunSummary> = {}): RunSummary => ({ id, checkpoints, ...extra });
  const accept = (r: RunSummary) => (r.checkpoints ?? 0) > 0 && !r.finetune;
  it('factorized left, combined right', () => {
    const runs = [run('a'), run('comb'), run('fact'), run('ft', 0, { finetune: 'lora' })];
    expect(defaultColumns(runs, { a: 'factorized', comb: 'combined', fact: 'factorized' }, accept)).toEqual(['a', 'comb']);
  });
  it('falls back to the first two admissible runs', () => {
    expect(defaultColumns([run('x'), run('y')], { x: 'factorized', y: null }, accept)).toEqual(['x', 'y']);
    expect(defaultColumns([run('x')], { x: 'combined' }, accept)).toEqual(['x', 'x']);
    expect(defaultColumns([run('x', 0)], {}, accept)).toEqual([null, null]);
  });
});

describe('CSV', () => {
  it('singular values: one row per head and index, raw values', () => {
    const rows = parseCsv(spectrumCsv('ocr-factorized', FACTORIZED, 2));
    expect(rows[0]).toEqual(['run', 'step', 'layer', 'head', 'index', 'singular_value']);
    expect(rows).toHaveLength(1 + 12);
    expect(rows[9]).toEqual(['ocr-factorized', '2000', '0', '0', '9', String(FACTORIZED.heads[0].singular_values[2][8])]);
  });
  it('nuclear norm with effective rank', () => {
    const rows = parseCsv(nuclearCsv('ocr-combined', COMBINED));
    expect(rows[0]).toEqual(['run', 'step', 'layer', 'head', 'nuclear_norm', 'effective_rank_90']);
    expect(rows.slice(1).map((r) => r[1])).toEqual(COMBINED.steps.map(String));
  });
});
