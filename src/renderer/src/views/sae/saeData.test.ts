import { describe, expect, it } from 'vitest';
import type { SaeDetails, SaeFeatureInfo, SaeFeaturesResult, SaeInterventionResult } from '../../../../shared/api';
import {
  alphaOf,
  densityCsv,
  densityRows,
  examplesCsv,
  exampleTokens,
  featureDetail,
  featureRows,
  featureRowsCsv,
  formRequest,
  DEFAULT_FORM,
  histogramCsv,
  histogramRows,
  interventionBars,
  interventionCsv,
  jobCurvePoints,
  logitCsv,
  logitRows,
  saeCurve,
  saeLabel,
  saeMetricParts,
} from './saeData';

const feature = (index: number, density: number, mi: number, cos: number, detailed = false): SaeFeatureInfo => ({
  index,
  density,
  maxActivation: 2 * index + 1,
  meanActivation: index,
  relevance: { country: { mi, best: `country_${index}`, pFireGivenBest: 0.5, pFire: density } },
  cosines: { trained_sv: cos },
  ...(detailed
    ? {
        topExamples: [{ tokens: ['noise_0', 'city_3', 'rel_country', 'end'], position: 1, activation: 3.5, label: 'train' }],
        histogram: [
          { from: 0, to: 1, count: 4 },
          { from: 1, to: 2, count: 1 },
        ],
        logitEffects: { promoted: [{ token: 'country_5', value: 2 }, { token: 'country_4', value: 1 }], suppressed: [{ token: 'country_1', value: -3 }, { token: 'country_2', value: -1 }] },
      }
    : {}),
});

const report = (): Pick<SaeFeaturesResult, 'features' | 'detailed'> => {
  const features = [feature(0, 0.2, 0.1, 0.05), feature(1, 0, 0, 0.9), feature(2, 0.01, 0.4, -0.6, true), feature(3, 0.2, 0.3, 0.1)];
  return { features, detailed: [features[2]] };
};

describe('SAE curves', () => {
  const points = [
    { step: 1, loss: 10, l0: 8, fve: 0.1 },
    { step: 2, loss: 0, l0: 8, fve: Number.NaN },
    { step: 3, loss: 2, l0: 7.5, fve: 0.9 },
  ];
  it('keeps positive losses (log axis) and finite metrics, one series each', () => {
    expect(saeCurve(points, 'loss')[0].points).toEqual([
      { step: 1, value: 10 },
      { step: 3, value: 2 },
    ]);
    expect(saeCurve(points, 'l0')[0].points.map((p) => p.value)).toEqual([8, 8, 7.5]);
    expect(saeCurve(points, 'fve')[0].points.map((p) => p.step)).toEqual([1, 3]);
    expect(saeCurve(points, 'fve')[0].label).toBe('FVE');
    expect(saeCurve(points, 'l0')[0].label).toBe('L0');
  });
  it('reads a live job’s progress events', () => {
    expect(jobCurvePoints([{ step: 4, loss: 1, metrics: { l0: 3, fve: 0.5, mse: 0.2, dead: 7 } }, { step: 5, loss: 0.5 }])).toEqual([
      { step: 4, loss: 1, l0: 3, fve: 0.5, mse: 0.2, dead: 7 },
      { step: 5, loss: 0.5, l0: undefined, fve: undefined, mse: undefined, dead: undefined },
    ]);
  });
});

describe('density histogram', () => {
  const d: Pick<SaeDetails, 'densityHistogram' | 'dead'> = {
    densityHistogram: [
      { log10From: -6, log10To: -5.5, count: 0 },
      { log10From: -5.5, log10To: -5, count: 2 },
      { log10From: -5, log10To: -4.5, count: 0 },
      { log10From: -4.5, log10To: -4, count: 3 },
      { log10From: -4, log10To: -3.5, count: 0 },
    ],
    dead: 11,
  };
  it('trims empty bins at the ends, keeps those inside, labels with a minus sign', () => {
    expect(densityRows(d).map((r) => [r.bin, r.count])).toEqual([
      ['−5.5…−5', 2],
      ['−5…−4.5', 0],
      ['−4.5…−4', 3],
    ]);
    expect(densityRows({ densityHistogram: [] })).toEqual([]);
  });
  it('writes every bin and the dead features as CSV', () => {
    const lines = densityCsv(d).trim().split('\n');
    expect(lines[0]).toBe('log10_density_from,log10_density_to,features');
    expect(lines).toHaveLength(7);
    expect(lines.at(-1)).toBe('dead,dead,11');
  });
});

describe('feature list', () => {
  it('sorts by density, MI or |cos|, dead features left out unless asked', () => {
    const r = report();
    expect(featureRows(r, { sort: 'density' }).map((x) => x.index)).toEqual([0, 3, 2]);
    expect(featureRows(r, { sort: 'mi', label: 'country' }).map((x) => x.index)).toEqual([2, 3, 0]);
    expect(featureRows(r, { sort: 'cos', vector: 'trained_sv' }).map((x) => x.index)).toEqual([2, 3, 0]);
    expect(featureRows(r, { sort: 'cos', vector: 'trained_sv', includeDead: true }).map((x) => x.index)).toEqual([1, 2, 3, 0]);
    expect(featureRows(r, { sort: 'density', limit: 1 })).toHaveLength(1);
    const row = featureRows(r, { sort: 'mi', label: 'country', vector: 'trained_sv' })[0];
    expect(row).toMatchObject({ index: 2, mi: 0.4, best: 'country_2', cos: -0.6, detailed: true });
    expect(featureRows(r, { sort: 'density' })[0]).toMatchObject({ mi: null, cos: null, detailed: false });
  });
  it('writes the listed rows with the chosen label and vector as CSV', () => {
    const rows = featureRows(report(), { sort: 'mi', label: 'country', vector: 'trained_sv' });
    const lines = featureRowsCsv(rows, { label: 'country', vector: 'trained_sv' }).trim().split('\n');
    expect(lines[0]).toBe('feature,density,max_activation,mi_bits_country,fires_most_on_country,p_fire_given_best,cos_trained_sv');
    expect(lines[1]).toBe('2,0.01,5,0.4,country_2,0.5,-0.6');
    expect(featureRowsCsv(rows, {}).trim().split('\n')[0]).toBe('feature,density,max_activation');
  });
});

describe('one feature', () => {
  const f = featureDetail(report(), 2) as SaeFeatureInfo;
  it('finds the detailed feature, or none', () => {
    expect(f.index).toBe(2);
    expect(featureDetail(report(), 0)).toBeNull();
  });
  it('marks the token of the maximum', () => {
    expect(exampleTokens(f.topExamples![0]).map((t) => (t.max ? `[${t.text}]` : t.text)).join(' ')).toBe('noise_0 [city_3] rel_country end');
    expect(examplesCsv(f).trim().split('\n')).toEqual(['feature,rank,activation,position,max_token,label,prompt', '2,1,3.5,1,city_3,train,noise_0 city_3 rel_country end']);
  });
  it('shapes the histogram and the logit effects', () => {
    expect(histogramRows(f)).toEqual([
      { x: 0.5, from: 0, to: 1, count: 4 },
      { x: 1.5, from: 1, to: 2, count: 1 },
    ]);
    expect(histogramCsv(f).trim().split('\n')).toHaveLength(3);
    // Promoted highest first, then suppressed with the most negative last.
    expect(logitRows(f).map((r) => `${r.kind}:${r.token}`)).toEqual(['promoted:country_5', 'promoted:country_4', 'suppressed:country_2', 'suppressed:country_1']);
    expect(logitRows({ ...f, logitEffects: undefined })).toEqual([]);
    expect(logitCsv(f).trim().split('\n')[4]).toBe('2,suppressed,2,country_2,-1');
  });
});

describe('intervention', () => {
  const r: SaeInterventionResult = {
    name: 's',
    study: 'lora-vs-steering',
    feature: 88,
    alpha: 8.6,
    hook: 'blocks.0.hook_resid_post',
    nHeldOut: 200,
    chance: 0.21,
    baseAcc: 0,
    steeredAcc: 1,
    steeredSplicedAcc: 0.5,
    steeredAblatedAcc: 1,
    featureSteeringAcc: 0.95,
    vectorWithoutDirectionAcc: 0.99,
    cosineWithTrained: 0.3,
    trainedVectorNorm: 8.6,
    randomDirectionAcc: { mean: 0.2, max: 0.6, n: 8 },
  };
  it('gives the bars in order, named by feature and α', () => {
    const bars = interventionBars(r);
    expect(bars.map((b) => b.key)).toEqual(['base', 'steered', 'steeredSpliced', 'steeredAblated', 'vectorWithout', 'featureSteering', 'random']);
    expect(bars[5]).toEqual({ key: 'featureSteering', label: 'base + 8.60 × #88', acc: 0.95 });
    expect(bars[6].acc).toBe(0.2);
  });
  it('writes the bars, the best random direction and chance as CSV', () => {
    const lines = interventionCsv(r).trim().split('\n');
    expect(lines[0]).toBe('feature,alpha,measure,label,heldout_acc,n_heldout');
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toBe('88,8.6,chance,chance,0.21,200');
    expect(lines.at(-2)).toMatch(/^88,8\.6,random_max,.*,0\.6,200$/);
  });
  it('scales k by the trained vector’s norm when known', () => {
    expect(alphaOf(2, { trained_sv: 4 })).toBe(8);
    expect(alphaOf(2, {})).toBe(2);
    expect(alphaOf(2, undefined)).toBe(2);
  });
});

describe('labels and the training form', () => {
  it('describes an SAE and its metrics', () => {
    expect(saeLabel({ name: 'a', hook: 'blocks.0.hook_resid_post', subject: 'world-base', architecture: 'topk', k: 8, dSae: 512 })).toBe('a — blocks.0.hook_resid_post of world-base, TopK k 8, d_sae 512');
    expect(saeLabel({ name: 'b', architecture: 'standard' })).toBe('b — ? of ?, ReLU, d_sae ?');
    expect(saeLabel({ name: 'c', error: 'bad' })).toBe('c (unreadable)');
    expect(saeMetricParts({ name: 'a', l0: 8, fve: 0.99, deadFraction: 0.5, lossRecovered: 1, steps: 196 })).toEqual(['L0 8.00', 'FVE 0.990', 'dead 50.0%', 'loss recovered 1.000', '196 steps']);
  });
  it('turns the form into a request, or says what is wrong', () => {
    const taken = new Set(['old']);
    expect(formRequest({ ...DEFAULT_FORM, name: 'new' }, taken)).toEqual({
      request: { name: 'new', id: 'world-base', hook: 'blocks.0.hook_resid_post', architecture: 'topk', expansion: 8, k: 8, lr: 0.004, tokens: 100000, seed: 0 },
    });
    expect(formRequest({ ...DEFAULT_FORM, name: 'r', architecture: 'relu' }, taken)).toMatchObject({ request: { architecture: 'relu', l1: 2.5 } });
    expect(formRequest({ ...DEFAULT_FORM, name: 'r', architecture: 'relu' }, taken)).not.toHaveProperty('request.k');
    expect(formRequest({ ...DEFAULT_FORM, name: '' }, taken)).toEqual({ error: 'give the SAE a name' });
    expect(formRequest({ ...DEFAULT_FORM, name: '../x' }, taken)).toMatchObject({ error: expect.stringMatching(/one folder name/) });
    expect(formRequest({ ...DEFAULT_FORM, name: 'old' }, taken)).toEqual({ error: "an SAE named 'old' exists" });
    expect(formRequest({ ...DEFAULT_FORM, name: 'n', k: '0' }, taken)).toEqual({ error: 'k: a whole number from 1 to 4096' });
    expect(formRequest({ ...DEFAULT_FORM, name: 'n', lr: '-1' }, taken)).toMatchObject({ error: expect.stringMatching(/learning rate/) });
    expect(formRequest({ ...DEFAULT_FORM, name: 'n', tokens: '1e3' }, taken)).toMatchObject({ request: { tokens: 1000 } });
  });
});
