import { describe, expect, it } from 'vitest';
import { jobCurves, splitStages, stageNames } from './jobCurves';
import { STUDY, TRAINING } from '../../shell/mocks/jobs';

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
