import { describe, expect, it } from 'vitest';
import { curvesCsv, legendItems, mergeSeries } from '../../figure/curves';
import { runCurves, seedCurves } from './curves';
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

describe('runCurves with several compared runs', () => {
  const c = runCurves({ id: 'a', lines: FACTORIZED_LINES }, [
    { id: 'b', lines: FACTORIZED_LINES },
    { id: 'c', lines: TWO_HOP_LINES },
  ]);

  it('gives each run its own line style, colour still by metric', () => {
    expect(c.loss.map((s) => [s.label, s.run, s.lineStyle])).toEqual([
      ['loss · a', 'a', 0],
      ['loss · b (dashed)', 'b', 1],
      ['loss · c (dotted)', 'c', 2],
    ]);
    expect(c.acc.filter((s) => s.group === 'test_impl_acc').map((s) => [s.run, s.colourIndex])).toEqual([
      ['a', 3],
      ['b', 3],
    ]);
    for (const set of [c.loss, c.acc]) expect(new Set(set.map((s) => s.key)).size).toBe(set.length);
  });

  it('names every run in the legend with its style', () => {
    expect(legendItems(c.acc).filter((i) => i.colourIndex === null)).toEqual([
      { label: 'a (solid)', colourIndex: null, dashed: false, lineStyle: 0 },
      { label: 'b (dashed)', colourIndex: null, dashed: true, lineStyle: 1 },
      { label: 'c (dotted)', colourIndex: null, dashed: true, lineStyle: 2 },
    ]);
  });

  it('writes one CSV column per run, under internal names', () => {
    expect(curvesCsv(c.loss).split('\n')[0]).toBe('step,loss · a,loss · b (dashed),loss · c (dotted)');
  });
});

describe('seedCurves', () => {
  // Two seeds that logged different steps: the mean sits on the steps both logged.
  const s0 = [
    { step: 0, loss: 4, metrics: { test_acc: 0 } },
    { step: 50, loss: 2, metrics: { test_acc: 0.5 } },
    { step: 100, loss: 1, metrics: { test_acc: 1 } },
  ];
  const s1 = [
    { step: 0, loss: 2, metrics: { test_acc: 0.2 } },
    { step: 100, loss: 3, metrics: { test_acc: 0.6 } },
    { step: 200, loss: 1, metrics: { test_acc: 0.9 } },
  ];
  const c = seedCurves([
    { id: 'seed0', lines: s0 },
    { id: 'seed1', lines: s1 },
  ]);

  it('draws each seed thin, then the mean with a ± 1 sd band on the shared steps', () => {
    expect(c.acc.map((s) => [s.label, Boolean(s.thin)])).toEqual([
      ['test_acc · seed0', true],
      ['test_acc · seed1', true],
      ['test_acc · mean', false],
    ]);
    const mean = c.acc[2];
    expect(mean.points.map((p) => p.step)).toEqual([0, 100]);
    expect(mean.points[0].value).toBeCloseTo(0.1, 12);
    expect(mean.points[1].value).toBeCloseTo(0.8, 12);
    const sd = Math.sqrt(0.02); // sample sd of {0, 0.2} and of {1, 0.6}: 0.1414…, 0.2828…
    expect(mean.band?.[0].lo).toBeCloseTo(0.1 - sd, 12);
    expect(mean.band?.[1].hi).toBeCloseTo(0.8 + 2 * sd, 12);
    // Seeds keep all their own steps.
    expect(c.acc[1].points.map((p) => p.step)).toEqual([0, 100, 200]);
  });

  it('keys the legend: metric colours, the mean, the band, the seeds', () => {
    expect(legendItems(c.acc).map((i) => i.label)).toEqual(['test_acc', 'mean of 2 seeds (solid)', '± 1 sd (band)', 'seed0, seed1 (thin)']);
  });

  it('exports one column per seed and the mean, sd and n per step', () => {
    const csv = curvesCsv(c.loss).trim().split('\n');
    expect(csv[0]).toBe('step,loss · seed0,loss · seed1,loss · mean,loss · sd,loss · n');
    expect(csv[1]).toBe(`0,4,2,3,${Math.SQRT2},2`);
    expect(csv[2]).toBe('50,2,,,,');
    expect(csv[3]).toBe(`100,1,3,2,${Math.SQRT2},2`);
    expect(csv[4]).toBe('200,,1,,,');
  });

  it('gives no mean for a metric one seed never logged', () => {
    const d = seedCurves([
      { id: 'a', lines: s0 },
      { id: 'b', lines: [{ step: 0, loss: 1 }] },
    ]);
    expect(d.acc.map((s) => s.label)).toEqual(['test_acc · a']);
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
