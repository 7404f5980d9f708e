import { describe, expect, it } from 'vitest';
import type { LoraVsSteeringAnalysis } from '../../../../shared/analysis';
import { decadeDomain, decadeTicks, positiveExtent } from '../../figure/axes';
import {
  accuracyCsv,
  accuracyRows,
  blockMeans,
  cosCsv,
  cosMatrix,
  deltaWCsv,
  deltaWRows,
  labelGroup,
  normRows,
  pc1Csv,
  pc1Rows,
  pickStudy,
  shortLabel,
  steeringCosRows,
  steeringCsv,
  studyLabel,
  topShare,
} from './loraSteeringData';
import { STUDY, STUDY_SUMMARY } from './mocks/study';

const parseCsv = (csv: string) => csv.trim().split('\n').map((l) => l.split(','));

describe('cos matrix', () => {
  it('drops the group prefix and finds the train/unrelated split', () => {
    const m = cosMatrix(STUDY);
    expect(m.rowLabels).toEqual(['T1 codename_0@0', 'T2 city_4@4', 'T3 codename_0@2', 'U1 noise_5@0', 'U2 noise_3@4', 'U3 noise_2@2']);
    expect(m.colLabels).toEqual(['T1', 'T2', 'T3', 'U1', 'U2', 'U3']);
    expect(m.fullLabels[3]).toBe('unrelated:noise_5@0');
    expect(m.split).toBe(3);
    expect(m.values).toBe(STUDY.cos_matrix.values);
    expect(labelGroup('train:city_4@4')).toBe('train');
    expect(shortLabel('plain')).toBe('plain');
  });
  it('splits in half when labels carry no group, at the end when all are training tokens', () => {
    const plain = { ...STUDY, cos_matrix: { labels: ['a', 'b', 'c', 'd'], values: STUDY.cos_matrix.values.slice(0, 4).map((r) => r.slice(0, 4)) } };
    expect(cosMatrix(plain).split).toBe(2);
    expect(cosMatrix(plain).colLabels).toEqual(['T1', 'T2', 'U1', 'U2']);
    const train = { ...STUDY, cos_matrix: { labels: ['train:a', 'train:b'], values: [[1, 0.5], [0.5, 1]] } };
    expect(cosMatrix(train).split).toBe(2);
  });
  it('block means skip the diagonal', () => {
    const m = { values: [[1, 0.8, 0.2], [0.8, 1, 0.4], [0.2, 0.4, 1]], rowLabels: ['a', 'b', 'c'], colLabels: ['a', 'b', 'c'], fullLabels: ['train:a', 'train:b', 'unrelated:c'], split: 2 };
    const b = blockMeans(m);
    expect(b.train).toBeCloseTo(0.8);
    expect(b.across).toBeCloseTo(0.3);
    expect(Number.isNaN(b.unrelated)).toBe(true);
  });
  it('CSV has one row per cell with full labels', () => {
    const rows = parseCsv(cosCsv(cosMatrix(STUDY)));
    expect(rows[0]).toEqual(['row', 'row_token', 'col', 'col_token', 'abs_cos']);
    expect(rows).toHaveLength(1 + 36);
    expect(rows[4]).toEqual(['0', 'train:codename_0@0', '3', 'unrelated:noise_5@0', String(STUDY.cos_matrix.values[0][3])]);
  });
});

describe('PC1 bars', () => {
  it('one row per token set, uncentred and centred shares and mean |cos|', () => {
    const rows = pc1Rows(STUDY);
    expect(rows.map((r) => r.group)).toEqual(['training prompts', 'unrelated text', 'all tokens']);
    expect(rows[0].pc1).toBe(STUDY.deltas.train.pc1VarRatio);
    expect(rows[1].pc1Centred).toBe(STUDY.deltas.unrelated.pc1VarRatioCentred);
    expect(rows[2].meanAbsCos).toBe(STUDY.lora_delta.mean_abs_cos);
    expect(rows[2].nTokens).toBe(768);
    for (const r of rows)
      for (const k of ['pc1', 'pc1Centred', 'meanAbsCos'] as const) {
        expect(r[k]).toBeGreaterThanOrEqual(0);
        expect(r[k]).toBeLessThanOrEqual(1);
      }
  });
  it('CSV', () => {
    const rows = parseCsv(pc1Csv(STUDY));
    expect(rows[0][0]).toBe('tokens');
    expect(rows.slice(1).map((r) => r[0])).toEqual(['train', 'unrelated', 'all']);
  });
});

describe('steering vectors', () => {
  it('cosines and norms', () => {
    expect(steeringCosRows(STUDY).map((r) => r.value)).toEqual([STUDY.cos_trained_vs_natural, STUDY.cos_trained_across_seeds]);
    expect(normRows(STUDY).map((r) => r.value)).toEqual([STUDY.norms.natural_sv, STUDY.norms.trained_sv, STUDY.norms.trained_sv_seed2]);
    const csv = parseCsv(steeringCsv(STUDY));
    expect(csv.find((r) => r[0] === 'norm_natural_sv')?.[1]).toBe(String(STUDY.norms.natural_sv));
  });
  it('the natural vector is scaled to the mean delta norm', () => {
    expect(STUDY.norms.natural_sv).toBeCloseTo(STUDY.deltas.all.meanNorm, 3);
  });
});

describe('accuracy', () => {
  it('grouped by measure, one key per method', () => {
    const rows = accuracyRows(STUDY);
    expect(rows.map((r) => r.measure)).toEqual(['held-out (OOCR)', 'side effects']);
    expect(rows[0]).toMatchObject({ base: 0, lora: 1, natural_sv: 1, trained_sv: 1 });
    expect(rows[1].lora).toBe(STUDY.side_effect_acc.lora);
  });
  it('CSV carries chance', () => {
    const rows = parseCsv(accuracyCsv(STUDY));
    expect(rows[0]).toEqual(['method', 'heldout_acc', 'side_effect_acc', 'chance']);
    expect(rows[2]).toEqual(['lora', '1', String(STUDY.side_effect_acc.lora), String(STUDY.chance)]);
  });
});

describe('ΔW singular values', () => {
  it('rows per index, one key per weight; non-positive values are null', () => {
    const s: LoraVsSteeringAnalysis = { ...STUDY, delta_w_singular_values: [{ weight: 'a', values: [2, 1, 0] }, { weight: 'b', values: [3] }] };
    const { rows, series } = deltaWRows(s);
    expect(series).toEqual([
      { key: 'w0', label: 'a' },
      { key: 'w1', label: 'b' },
    ]);
    expect(rows).toEqual([
      { index: 1, w0: 2, w1: 3 },
      { index: 2, w0: 1, w1: null },
      { index: 3, w0: null, w1: null },
    ]);
  });
  it('the real rank-4 LoRA: 4 real values, then round-off', () => {
    const { rows } = deltaWRows(STUDY);
    expect(rows).toHaveLength(8);
    expect(rows[3].w0).toBeGreaterThan(0.1);
    expect(rows[4].w0).toBeLessThan(1e-6);
    expect(decadeDomain(positiveExtent(rows, 'index'))).toEqual([1e-8, 10]);
    expect(decadeTicks([1e-8, 10])).toEqual([1e-8, 1e-6, 1e-4, 1e-2, 1]);
    expect(topShare(STUDY.delta_w_singular_values[0].values)).toBeGreaterThan(0.5);
    expect(Number.isNaN(topShare([]))).toBe(true);
    expect(parseCsv(deltaWCsv(STUDY))).toHaveLength(1 + 8);
  });
});

describe('study picker', () => {
  it('keeps the chosen study while it is listed', () => {
    const other = { ...STUDY_SUMMARY, id: 'b' };
    expect(pickStudy([STUDY_SUMMARY, other], 'b')).toBe('b');
    expect(pickStudy([STUDY_SUMMARY, other], 'gone')).toBe('lora-vs-steering');
    expect(pickStudy([], null)).toBeNull();
    expect(pickStudy(undefined, 'b')).toBeNull();
    expect(studyLabel(STUDY_SUMMARY)).toBe('lora-vs-steering — locations, seed 0');
  });
});
