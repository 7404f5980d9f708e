import { describe, expect, it } from 'vitest';
import { aggregateSeries, meanSd, seedGroup, sharedSteps } from './seedAggregate';
import { FACTORIZED, LORA_RUN } from './mocks/runs';

const M = FACTORIZED.manifest;
const withSeed = (seed: number, over: Partial<typeof M.config> = {}) => ({ ...M, config: { ...M.config, ...over, seed } });

describe('seedGroup', () => {
  it('finds seeds of one configuration (config equal apart from seed, whatever the key order)', () => {
    const reordered = { ...M, config: Object.fromEntries(Object.entries({ ...M.config, seed: 2 }).reverse()) as typeof M.config };
    expect(seedGroup([withSeed(0), withSeed(1), reordered])).toEqual([0, 1, 2]);
  });

  it('refuses runs that differ in anything else, repeat a seed, or are alone', () => {
    expect(seedGroup([withSeed(0), withSeed(1, { steps: 1000 })])).toBeNull();
    expect(seedGroup([withSeed(0), withSeed(1, { model: { ...M.config.model, ovRank: 128 } })])).toBeNull();
    expect(seedGroup([withSeed(0), { ...withSeed(1), preset: 'ocr-combined' }])).toBeNull();
    expect(seedGroup([withSeed(0), { ...withSeed(1), finetune: LORA_RUN.manifest.finetune }])).toBeNull();
    expect(seedGroup([withSeed(0), withSeed(0)])).toBeNull();
    expect(seedGroup([withSeed(0)])).toBeNull();
  });
});

describe('meanSd', () => {
  it('gives the mean and the sample (n − 1) standard deviation', () => {
    expect(meanSd([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ mean: 5, sd: Math.sqrt(32 / 7), n: 8 });
    const two = meanSd([0, 1]);
    expect(two.mean).toBe(0.5);
    expect(two.sd).toBeCloseTo(Math.SQRT1_2, 12);
    expect(meanSd([3])).toEqual({ mean: 3, sd: 0, n: 1 });
    expect(meanSd([]).n).toBe(0);
  });
});

describe('step alignment', () => {
  const a = [0, 50, 100, 150, 200].map((step) => ({ step, value: step / 200 }));
  const b = [0, 100, 200, 300].map((step) => ({ step, value: 1 - step / 200 }));
  const c = [200, 100, 0].map((step) => ({ step, value: 0.5 }));

  it('keeps the steps every run logged, ascending (the intersection)', () => {
    expect(sharedSteps([a, b, c])).toEqual([0, 100, 200]);
    expect(sharedSteps([a])).toEqual([0, 50, 100, 150, 200]);
    expect(sharedSteps([a, []])).toEqual([]);
    expect(sharedSteps([])).toEqual([]);
  });

  it('aggregates at the shared steps only', () => {
    const agg = aggregateSeries([a, b]);
    expect(agg.map((p) => p.step)).toEqual([0, 100, 200]);
    // step 0: 0 and 1; step 100: 0.5 and 0.5; step 200: 1 and 0.
    expect(agg.map((p) => p.mean)).toEqual([0.5, 0.5, 0.5]);
    expect(agg[0].sd).toBeCloseTo(Math.SQRT1_2, 12);
    expect(agg[1].sd).toBe(0);
    expect(agg.every((p) => p.n === 2)).toBe(true);
    const three = aggregateSeries([a, b, c]);
    expect(three[0]).toMatchObject({ step: 0, mean: 0.5, sd: 0.5, n: 3 });
  });
});
