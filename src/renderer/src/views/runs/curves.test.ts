import { describe, expect, it } from 'vitest';
import { STUDY, TRAINING } from '../train/mocks/jobs';
import { accKeys, curvesCsv, downsample, formatTick, jobCurves, legendItems, linearTicks, stageNames, logDomain, logTicks, mergeSeries, runCurves, splitStages } from './curves';
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

describe('splitStages and jobCurves', () => {
  it('keeps a training job as one stage with live loss and logged accuracy', () => {
    expect(splitStages(TRAINING.curve)).toHaveLength(1);
    const c = jobCurves(TRAINING.curve);
    expect(c.loss).toHaveLength(1);
    expect(c.loss[0].points).toHaveLength(5);
    expect(c.acc.map((s) => s.label)).toEqual(['train_fact_acc', 'test_fact_acc', 'test_impl_acc']);
    expect(c.acc[0].points.map((p) => p.step)).toEqual([1, 50, 100]);
  });

  it('splits a study where the step goes back and shows the latest stage’s accuracy', () => {
    const stages = splitStages(STUDY.curve);
    expect(stages.map((s) => s.map((p) => p.step))).toEqual([
      [1, 50],
      [1, 20, 40],
    ]);
    const c = jobCurves(STUDY.curve);
    expect(c.loss.map((s) => s.label)).toEqual(['loss · stage 1', 'loss · stage 2']);
    expect(c.loss.map((s) => s.colourIndex)).toEqual([0, 1]);
    expect(c.acc.map((s) => s.label)).toEqual(['heldout_country_acc · stage 2', 'heldout_acc · stage 2']);
  });

  it('names stages from the job’s `stage:` log lines', () => {
    const names = stageNames(['stage: lora', 'saved adapter', 'stage: steer (second seed)']);
    expect(names).toEqual(['lora', 'steer (second seed)']);
    const c = jobCurves(STUDY.curve, 600, names);
    expect(c.loss.map((s) => s.label)).toEqual(['loss · lora', 'loss · steer (second seed)']);
    expect(c.acc[0].label).toBe('heldout_country_acc · steer (second seed)');
  });

  it('thins long curves but keeps both ends', () => {
    const curve = Array.from({ length: 5000 }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1) }));
    const c = jobCurves(curve, 100);
    expect(c.loss[0].points).toHaveLength(100);
    expect(c.loss[0].points[0].step).toBe(1);
    expect(c.loss[0].points.at(-1)?.step).toBe(5000);
  });

  it('handles a job with no events yet', () => {
    expect(jobCurves([])).toEqual({ loss: [], acc: [] });
  });
});

describe('axes', () => {
  it('puts a log domain on whole decades around positive values', () => {
    expect(logDomain([4.8, 0.0021, 0, -1, NaN])).toEqual([0.001, 10]);
    expect(logDomain([1])).toEqual([1, 10]);
    expect(logDomain([])).toEqual([0.01, 10]);
    expect(logTicks([0.001, 10])).toEqual([0.001, 0.01, 0.1, 1, 10]);
    const wide = logTicks([1e-9, 10], 5);
    expect(wide.length).toBeLessThanOrEqual(5);
    expect(wide[0]).toBeCloseTo(1e-9, 20);
  });

  it('puts step ticks on round numbers', () => {
    expect(linearTicks(2500)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(linearTicks(300)).toEqual([0, 100, 200, 300]);
    expect(linearTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(linearTicks(0)).toEqual([0]);
  });

  it('formats ticks compactly', () => {
    expect(formatTick(0.01)).toBe('0.01');
    expect(formatTick(0.25)).toBe('0.25');
    expect(formatTick(1e-5)).toBe('1e-5');
    expect(formatTick(1000)).toBe('1e+3');
  });

  it('downsamples evenly', () => {
    expect(downsample([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(downsample([0, 1, 2, 3, 4, 5, 6, 7, 8], 3)).toEqual([0, 4, 8]);
  });

  it('collects *_acc keys only', () => {
    expect(accKeys([{ metrics: { a_acc: 1, a_loss: 2 } }, {}, { metrics: { b_acc: 0 } }])).toEqual(['a_acc', 'b_acc']);
  });
});
