import { describe, expect, it } from 'vitest';
import { curvesCsv, legendItems, mergeSeries } from '../../figure/curves';
import { runCurves } from './curves';
import { FACTORIZED_LINES, TWO_HOP_LINES } from './mocks/runs';

describe('runCurves', () => {
  it('gives one loss line and one line per *_acc key, in logged order', () => {
    const c = runCurves({ id: 'ocr-factorized', lines: FACTORIZED_LINES });
    expect(c.loss).toHaveLength(1);
    expect(c.loss[0]).toMatchObject({ key: 's0', label: 'loss', dashed: false });
    expect(c.loss[0].points.map((p) => p.step)).toEqual([1, 50, 100, 150, 2000]);
    expect(c.acc.map((s) => s.label)).toEqual(['train_fact_acc', 'train_impl_acc', 'test_fact_acc', 'test_impl_acc']);
    expect(c.acc.map((s) => s.colourIndex)).toEqual([0, 1, 2, 3]);
    expect(c.acc[3].points.at(-1)).toEqual({ step: 2000, value: 1 });
  });

  it('overlays the compared run dashed, colour by metric, keys unique', () => {
    const c = runCurves({ id: 'a', lines: FACTORIZED_LINES }, { id: 'b', lines: TWO_HOP_LINES });
    expect(c.loss.map((s) => [s.label, s.dashed])).toEqual([
      ['loss · a', false],
      ['loss · b (dashed)', true],
    ]);
    // The zero loss at step 1500 cannot sit on a log axis.
    expect(c.loss[1].points.map((p) => p.step)).toEqual([1, 75]);
    // Union of keys; each run only draws the keys it logged.
    const b = c.acc.filter((s) => s.dashed);
    expect(b.map((s) => s.label)).toEqual(['train_hop1_acc · b (dashed)', 'test_comp_acc · b (dashed)']);
    expect(b.map((s) => s.colourIndex)).toEqual([4, 5]);
    // Keys are unique within each chart.
    for (const set of [c.loss, c.acc]) expect(new Set(set.map((s) => s.key)).size).toBe(set.length);
  });

  it('keys the legend by metric colour, plus one line-style entry per compared run', () => {
    const c = runCurves({ id: 'a', lines: FACTORIZED_LINES }, { id: 'b', lines: FACTORIZED_LINES });
    expect(legendItems(c.loss)).toEqual([
      { label: 'loss', colourIndex: 0, dashed: false },
      { label: 'a (solid)', colourIndex: null, dashed: false },
      { label: 'b (dashed)', colourIndex: null, dashed: true },
    ]);
    expect(legendItems(c.acc).map((i) => i.label)).toEqual(['train_fact_acc', 'train_impl_acc', 'test_fact_acc', 'test_impl_acc', 'a (solid)', 'b (dashed)']);
    // Alone, a run's legend is just its metrics.
    expect(legendItems(runCurves({ id: 'a', lines: FACTORIZED_LINES }).acc)).toHaveLength(4);
  });

  it('has no series for a run without logged metrics', () => {
    const c = runCurves({ id: 'empty', lines: [] });
    expect(c.loss[0].points).toEqual([]);
    expect(c.acc).toEqual([]);
  });
});

describe('mergeSeries and curvesCsv', () => {
  it('merges by step and leaves unmeasured cells empty', () => {
    const c = runCurves({ id: 'a', lines: FACTORIZED_LINES }, { id: 'b', lines: TWO_HOP_LINES });
    const rows = mergeSeries(c.loss);
    expect(rows.map((r) => r.step)).toEqual([1, 50, 75, 100, 150, 2000]);
    expect(rows[2]).toEqual({ step: 75, s1: 0.5 });
    const csv = curvesCsv(c.loss).trim().split('\n');
    expect(csv[0]).toBe('step,loss · a,loss · b (dashed)');
    expect(csv[1]).toBe('1,4.847,4.9');
    expect(csv[3]).toBe('75,,0.5');
  });
});
