import { describe, it, expect } from 'vitest';
import { accKeys, curvesCsv, dashArray, downsample, keySeries, legendItems, lineStyleName, lineStyleOf, lossPoints, mergeSeries, metricPoints, seriesValues, type StepRecord } from './curves';

const RECORDS: StepRecord[] = [
  { step: 1, loss: 4.8, metrics: { test_acc: 0.1, test_loss: 4.9 } },
  { step: 50, loss: 0 },
  { step: 100, loss: 0.5, metrics: { test_acc: 0.9 } },
];

describe('series from step records', () => {
  it('collects *_acc keys only', () => {
    expect(accKeys([{ metrics: { a_acc: 1, a_loss: 2 } }, {}, { metrics: { b_acc: 0 } }])).toEqual(['a_acc', 'b_acc']);
  });
  it('leaves non-positive losses off a log axis, and unmeasured steps out', () => {
    expect(lossPoints(RECORDS).map((p) => p.step)).toEqual([1, 100]);
    expect(lossPoints(RECORDS, false).map((p) => p.step)).toEqual([1, 50, 100]);
    expect(metricPoints(RECORDS, 'test_acc')).toEqual([
      { step: 1, value: 0.1 },
      { step: 100, value: 0.9 },
    ]);
  });
  it('keys, merges and writes series', () => {
    const series = keySeries([
      { label: 'loss', group: 'loss', colourIndex: 0, dashed: false, points: lossPoints(RECORDS) },
      { label: 'test_acc', group: 'test_acc', colourIndex: 1, dashed: false, points: metricPoints(RECORDS, 'test_acc') },
    ]);
    expect(series.map((s) => s.key)).toEqual(['s0', 's1']);
    expect(mergeSeries(series)).toEqual([
      { step: 1, s0: 4.8, s1: 0.1 },
      { step: 100, s0: 0.5, s1: 0.9 },
    ]);
    expect(seriesValues(series)).toEqual([4.8, 0.5, 0.1, 0.9]);
    expect(curvesCsv(series).trim().split('\n')).toEqual(['step,loss,test_acc', '1,4.8,0.1', '100,0.5,0.9']);
    expect(legendItems(series)).toEqual([
      { label: 'loss', colourIndex: 0, dashed: false },
      { label: 'test_acc', colourIndex: 1, dashed: false },
    ]);
  });
});

describe('line styles, bands and extra CSV columns', () => {
  it('names and draws line styles, dashed as before', () => {
    expect([0, 1, 2, 3, 4, 5].map(lineStyleName)).toEqual(['solid', 'dashed', 'dotted', 'dash-dot', 'long dash', 'solid']);
    expect(dashArray(0, 12)).toBeUndefined();
    expect(dashArray(1, 12)).toBe(`${12 * 0.5} ${12 * 0.33}`);
    expect(new Set([1, 2, 3, 4].map((i) => dashArray(i, 12))).size).toBe(4);
    expect(lineStyleOf({ dashed: true })).toBe(1);
    expect(lineStyleOf({ dashed: true, lineStyle: 3 })).toBe(3);
  });

  it('merges band bounds into the rows, bounds the domain by the upper edge, writes extra columns', () => {
    const [s] = keySeries([
      {
        label: 'acc · mean',
        group: 'acc',
        colourIndex: 0,
        dashed: false,
        points: [{ step: 10, value: 0.5 }],
        band: [{ step: 10, lo: -0.1, hi: 1.1 }],
        csvExtra: [{ label: 'acc · sd', points: [{ step: 10, value: 0.6 }] }],
      },
    ]);
    expect(mergeSeries([s])).toEqual([{ step: 10, s0: 0.5, s0_lo: -0.1, s0_hi: 1.1 }]);
    expect(seriesValues([s])).toEqual([0.5, 1.1]);
    expect(curvesCsv([s]).trim().split('\n')).toEqual(['step,acc · mean,acc · sd', '10,0.5,0.6']);
  });
});

describe('downsample', () => {
  it('downsamples evenly, keeping both ends', () => {
    expect(downsample([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(downsample([0, 1, 2, 3, 4, 5, 6, 7, 8], 3)).toEqual([0, 4, 8]);
  });
});
