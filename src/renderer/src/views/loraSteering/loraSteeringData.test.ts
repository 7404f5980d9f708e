import { describe, expect, it } from 'vitest';
import type { LoraVsSteeringAnalysis } from '../../../../shared/analysis';
import { decadeDomain, decadeTicks, positiveExtent } from '../../figure/axes';
import {
  accuracyBarRows,
  accuracyCi,
  accuracyCis,
  accuracyCsv,
  accuracyRows,
  blockMeans,
  blockMeansText,
  ciText,
  commonN,
  evaluationText,
  filterCosMatrix,
  fullBlockMeans,
  labelPosition,
  positionOptions,
  seedBarRows,
  seedCis,
  chanceText,
  compactLayers,
  cosCsv,
  cosMatrix,
  deltaWCsv,
  deltaWRows,
  folderName,
  hookLayer,
  isRealStudy,
  labelGroup,
  layerSweepCsv,
  layerSweepRows,
  loraRank,
  normRows,
  pc1Csv,
  pc1Rows,
  pickStudy,
  seedPairs,
  seedRows,
  seedsCsv,
  shortLabel,
  steeringCosRows,
  steeringCsv,
  studyLabel,
  studySummary,
  studySummaryParts,
  sweepPeak,
  tokenCosCsv,
  tokenCosMeansText,
  tokenCosRows,
  topShare,
  topShareText,
} from './loraSteeringData';
import { REAL_STUDY } from './mocks/realStudy';
import { STUDY, STUDY_SUMMARY } from './mocks/study';

const parseCsv = (csv: string) => csv.trim().split('\n').map((l) => l.split(','));

describe('cos matrix', () => {
  it('drops the group prefix and finds the train/unrelated split', () => {
    const m = cosMatrix(STUDY);
    expect(m.rowLabels).toEqual(['T1 codename_0@0', 'T2 rel_dist@2', 'T3 end@5', 'U1 noise_5@0', 'U2 noise_1@3', 'U3 end@5']);
    expect(m.colLabels).toEqual(['T1', 'T2', 'T3', 'U1', 'U2', 'U3']);
    expect(m.fullLabels[3]).toBe('unrelated:noise_5@0');
    expect(m.positions).toEqual([0, 2, 5, 0, 3, 5]);
    expect(m.readout).toEqual([false, false, true, false, false, true]);
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
    const m = { values: [[1, 0.8, 0.2], [0.8, 1, 0.4], [0.2, 0.4, 1]], rowLabels: ['a', 'b', 'c'], colLabels: ['a', 'b', 'c'], fullLabels: ['train:a', 'train:b', 'unrelated:c'], split: 2, positions: [0, 1, 1], readout: [null, null, null] };
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
  it('positions: the record’s, else the labels’; the read-out marked; older records without them', () => {
    expect(positionOptions(cosMatrix(STUDY))).toEqual([
      { position: 0, count: 2, readout: false },
      { position: 2, count: 1, readout: false },
      { position: 3, count: 1, readout: false },
      { position: 5, count: 2, readout: true },
    ]);
    // A record from before positions were stored: parsed from the labels, read-out unknown.
    const old: LoraVsSteeringAnalysis = { ...STUDY, cos_matrix: { labels: STUDY.cos_matrix.labels, values: STUDY.cos_matrix.values } };
    expect(cosMatrix(old).positions).toEqual([0, 2, 5, 0, 3, 5]);
    expect(cosMatrix(old).readout).toEqual([null, null, null, null, null, null]);
    expect(positionOptions(cosMatrix(old)).map((o) => o.readout)).toEqual([false, false, false, false]);
    expect(positionOptions(cosMatrix(REAL_STUDY)).map((o) => o.position)).toEqual([0, 5, 6]);
    expect(labelPosition('train:a@b@12')).toBe(12);
    expect(labelPosition('plain')).toBeNull();
  });
  it('picking positions filters rows and columns alike, keeping the ids and the split', () => {
    const m = cosMatrix(STUDY);
    const f = filterCosMatrix(m, new Set([5]));
    expect(f.rowLabels).toEqual(['T3 end@5', 'U3 end@5']);
    expect(f.colLabels).toEqual(['T3', 'U3']);
    expect(f.split).toBe(1);
    expect(f.values).toEqual([
      [1, m.values[2][5]],
      [m.values[5][2], 1],
    ]);
    expect(f.positions).toEqual([5, 5]);
    expect(f.readout).toEqual([true, true]);
    expect(filterCosMatrix(m, new Set([0, 2, 3, 5]))).toBe(m);
    const trainOnly = filterCosMatrix(m, new Set([2]));
    expect(trainOnly.split).toBe(1);
    expect(trainOnly.values).toEqual([[1]]);
    expect(parseCsv(cosCsv(f))).toHaveLength(1 + 4);
  });
  it('caption means: over all tokens from the record, else derived exactly from the PC1 summaries', () => {
    const r = fullBlockMeans(STUDY);
    expect(r).toEqual({ train: STUDY.cos_block_means?.train, unrelated: STUDY.cos_block_means?.unrelated, across: STUDY.cos_block_means?.across, nTrain: 384, nUnrelated: 384 });
    // The within-set means are the PC1 panel's.
    expect(r?.train).toBe(STUDY.deltas.train.meanAbsCos);
    expect(r?.unrelated).toBe(STUDY.deltas.unrelated.meanAbsCos);
    const derived = fullBlockMeans({ ...STUDY, cos_block_means: undefined });
    expect(derived?.nTrain).toBe(384);
    expect(derived?.train).toBe(STUDY.deltas.train.meanAbsCos);
    // The mock's numbers are rounded to 5 digits; unrounded, the two agree to 1e-13.
    expect(derived?.across).toBeCloseTo(STUDY.cos_block_means?.across ?? NaN, 3);
    expect(blockMeansText(r!)).toBe('train×train 0.81, unrelated×unrelated 0.64, across 0.68');
    expect(blockMeansText({ train: NaN, unrelated: 0.5, across: 0.25 })).toBe('train×train n/a, unrelated×unrelated 0.50, across 0.25');
    expect(fullBlockMeans({ ...STUDY, cos_block_means: undefined, deltas: { ...STUDY.deltas, all: { ...STUDY.deltas.all, nTokens: 10 } } })).toBeNull();
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
  it('Wilson 95% intervals from the questions each accuracy counts', () => {
    const c = accuracyCis(STUDY);
    expect(c.heldout.lora).toEqual({ acc: 1, n: 800, lo: expect.closeTo(0.9952, 4), hi: 1 });
    expect(c.heldout.base).toEqual({ acc: 0, n: 800, lo: 0, hi: expect.closeTo(0.0048, 4) });
    expect(c.side_effect.lora.n).toBe(1600);
    expect(ciText(c.heldout.lora)).toBe('1.000 [0.995, 1.000] (n = 800)');
    expect(ciText(c.side_effect.lora)).toBe('0.927 [0.913, 0.939] (n = 1600)');
    // The backdoor LoRA's 0.965 on 400 questions.
    expect(ciText(accuracyCi(0.965, 400))).toBe('0.965 [0.942, 0.979] (n = 400)');
    expect(ciText(accuracyCi(0.5, undefined))).toBe('0.50');
    expect(ciText(c.heldout.lora, { withN: false })).toBe('1.000 [0.995, 1.000]');
    expect(commonN(c.heldout)).toBe(800);
    expect(commonN(c.side_effect)).toBe(1600);
    expect(commonN(accuracyCis(REAL_STUDY).heldout)).toBeNull();
    expect(commonN({ ...c.heldout, lora: accuracyCi(1, 400) })).toBeNull();
    expect(ciText(accuracyCi(NaN, 10))).toBe('n/a');
    const bars = accuracyBarRows(STUDY);
    // Offsets below and above the bar: at 1.000 only below, at 0.000 only above.
    expect(bars[0].loraErr).toEqual([expect.closeTo(0.0048, 4), 0]);
    expect(bars[0].baseErr).toEqual([0, expect.closeTo(0.0048, 4)]);
    expect(accuracyBarRows(REAL_STUDY)[0].loraErr).toBeUndefined();
  });
  it('says which questions: the study’s own draw, not the runs’ final evaluation', () => {
    expect(evaluationText(STUDY)).toBe(
      'Study evaluation: 800 fresh held-out questions (heldout_country 400, heldout_language 400) and 1600 side-effect questions (4 sets of 400), seed 0, the same questions for every method. Error bars and brackets: Wilson 95% intervals. The Runs view’s accuracy of each fine-tune run is that run’s own final evaluation, another draw of questions, so it differs from these by sampling noise.',
    );
    expect(evaluationText(REAL_STUDY)).toMatch(/^The record does not say how many questions each accuracy counts, so no intervals are shown\. The Runs view/);
  });
  it('CSV: one row per method and measure, with the interval, n and chance', () => {
    const rows = parseCsv(accuracyCsv(STUDY));
    expect(rows[0]).toEqual(['method', 'measure', 'acc', 'acc_lo', 'acc_hi', 'n', 'chance']);
    expect(rows).toHaveLength(1 + 8);
    const lora = accuracyCis(STUDY).side_effect.lora;
    expect(rows[3]).toEqual(['lora', 'heldout', '1', String(accuracyCis(STUDY).heldout.lora.lo), '1', '800', String(STUDY.chance)]);
    expect(rows[4]).toEqual(['lora', 'side_effect', String(STUDY.side_effect_acc.lora), String(lora.lo), String(lora.hi), '1600', '']);
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

describe('study summary', () => {
  const TAIL = '. Natural steering vector = PC1 of the deltas scaled to their mean norm; trained = one vector learned from scratch at the hook.';
  it('toy study: the caption as before', () => {
    expect(isRealStudy(STUDY)).toBe(false);
    expect(studySummary(STUDY)).toBe(
      `Locations task (codename city), seed 0, latent city #25. LoRA rank 4, α 8 on mlp.W_out of layer 0; deltas and steering vectors at blocks.0.hook_resid_post${TAIL}`,
    );
    expect(studySummaryParts(STUDY)).toMatchObject({ hook: 'blocks.0.hook_resid_post', after: TAIL });
    const backdoor: LoraVsSteeringAnalysis = { ...STUDY, kind: 'backdoor', latentCity: null, lora: { rank: 2, alpha: 4, targets: ['mlp.W_out', 'attn.W_V'], layers: [0, 1] } };
    expect(studySummary(backdoor)).toBe(`Backdoor (trigger) task, seed 0. LoRA rank 2, α 4 on mlp.W_out, attn.W_V of layers 0, 1; deltas and steering vectors at blocks.0.hook_resid_post${TAIL}`);
  });
  it('real study: model, dataset kind, PEFT LoRA with compact layers, where the adapter came from, hook', () => {
    expect(isRealStudy(REAL_STUDY)).toBe(true);
    expect(studySummary(REAL_STUDY)).toBe(
      `gpt2 model (folder gpt2), locations dataset, seed 0. PEFT LoRA r 8, α 16 on c_attn of layers 0–11, trained here; deltas and steering vectors at blocks.6.hook_resid_post${TAIL}`,
    );
    const imported: LoraVsSteeringAnalysis = {
      ...REAL_STUDY,
      peft: { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'], layers: [3] },
      model: { ...REAL_STUDY.model!, dir: 'C:\\models\\Qwen2-0.5B\\', modelType: 'qwen2', adapter: '../adapters/qwen-lora', adapterTrainedHere: false },
    };
    expect(studySummaryParts(imported).before).toBe('qwen2 model (folder Qwen2-0.5B), locations dataset, seed 0. PEFT LoRA r 4, α 8 on q_proj, v_proj of layer 3, imported (adapter ../adapters/qwen-lora); deltas and steering vectors at ');
    const bare: LoraVsSteeringAnalysis = { ...REAL_STUDY, model: undefined };
    expect(studySummaryParts(bare).before).toBe('Hugging Face model, locations dataset, seed 0. PEFT LoRA r 8, α 16 on c_attn of layers 0–11; deltas and steering vectors at ');
  });
  it('compact layer lists, folder names, hook layer, rank', () => {
    expect(compactLayers([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])).toBe('0–11');
    expect(compactLayers([5, 0, 1, 2, 7, 8, 2])).toBe('0–2, 5, 7, 8');
    expect(compactLayers([3])).toBe('3');
    expect(compactLayers([])).toBe('');
    expect(folderName('../models/gpt2/')).toBe('gpt2');
    expect(folderName('gpt2')).toBe('gpt2');
    expect(hookLayer(REAL_STUDY)).toBe(6);
    expect(hookLayer({ ...STUDY, hook: 'hook_embed' })).toBeNull();
    expect(loraRank(STUDY)).toBe(4);
    expect(loraRank(REAL_STUDY)).toBe(8);
    expect(loraRank({ ...STUDY, lora: undefined })).toBeNull();
  });
});

describe('real-model study in the existing panels', () => {
  it('chance n/a when the dataset did not say (NaN, or null as JSON writes NaN)', () => {
    expect(chanceText(STUDY)).toBe('0.21');
    expect(chanceText(REAL_STUDY)).toBe('n/a');
    expect(chanceText({ ...REAL_STUDY, chance: null as unknown as number })).toBe('n/a');
    const rows = parseCsv(accuracyCsv(REAL_STUDY));
    expect(rows[1]).toEqual(['base', 'heldout', '0.05', '', '', '', '']);
    expect(rows[2]).toEqual(['base', 'side_effect', '0.8', '', '', '', '']);
  });
  it('ΔW legends drop PEFT’s prefix; σ₁ shares become a range over many matrices', () => {
    expect(deltaWRows(REAL_STUDY).series[0]).toEqual({ key: 'w0', label: 'transformer.h.0.attn.c_attn' });
    expect(deltaWRows(STUDY).series[0].label).toBe('blocks.0.mlp.W_out');
    expect(topShareText(STUDY)).toBe(`blocks.0.mlp.W_out ${'0.57'}`);
    expect(topShareText(REAL_STUDY)).toMatch(/^from 0\.\d\d \(transformer\.h\.0\.attn\.c_attn\) to 0\.\d\d \(transformer\.h\.7\.attn\.c_attn\) over 8 matrices$/);
  });
  it('the |cos| matrix splits real token labels', () => {
    const m = cosMatrix(REAL_STUDY);
    expect(m.split).toBe(2);
    expect(m.rowLabels).toEqual(['T1 ·Paris@5', 'T2 ·is@6', 'U1 ·Berlin@6', 'U2 The@0']);
  });
});

describe('layer sweep', () => {
  it('one row per layer, the peak layer, CSV with blanks where a value is missing', () => {
    const rows = layerSweepRows(REAL_STUDY);
    expect(rows).toHaveLength(12);
    expect(rows[6]).toEqual({ layer: 6, pc1: 0.61, meanAbsCos: 0.305, meanNorm: 2.5 });
    expect(sweepPeak(REAL_STUDY)).toEqual({ layer: 6, pc1: 0.61 });
    const csv = parseCsv(layerSweepCsv(REAL_STUDY));
    expect(csv[0]).toEqual(['layer', 'hook', 'pc1_var_ratio', 'mean_abs_cos', 'mean_norm', 'cos_natural_trained']);
    expect(csv).toHaveLength(1 + 12);
    expect(csv[1]).toEqual(['0', 'blocks.0.hook_resid_post', '0.21', '0.105', '1', '']);
    expect(csv[7]).toEqual(['6', 'blocks.6.hook_resid_post', '0.61', '0.305', '2.5', '0.45']);
  });
  it('toy studies: both layers, the hook’s row is the PC1 panel’s all-token numbers', () => {
    const rows = layerSweepRows(STUDY);
    expect(rows.map((r) => r.layer)).toEqual([0, 1]);
    expect(rows[0].pc1).toBe(STUDY.deltas.all.pc1VarRatio);
    expect(rows[0].meanAbsCos).toBe(STUDY.deltas.all.meanAbsCos);
    expect(sweepPeak(STUDY)).toEqual({ layer: 0, pc1: STUDY.deltas.all.pc1VarRatio });
  });
  it('records without a sweep: no rows, header-only CSV', () => {
    const old: LoraVsSteeringAnalysis = { ...STUDY, layer_sweep: undefined };
    expect(layerSweepRows(old)).toEqual([]);
    expect(sweepPeak(old)).toBeNull();
    expect(parseCsv(layerSweepCsv(old))).toHaveLength(1);
  });
  it('NaN values become gaps', () => {
    const s: LoraVsSteeringAnalysis = { ...REAL_STUDY, layer_sweep: [{ layer: 0, hook: 'blocks.0.hook_resid_post', pc1_var_ratio: NaN, mean_abs_cos: 0.5, mean_norm: 1 }] };
    expect(layerSweepRows(s)[0].pc1).toBeNull();
    expect(sweepPeak(s)).toBeNull();
    expect(parseCsv(layerSweepCsv(s))[1]).toEqual(['0', 'blocks.0.hook_resid_post', '', '0.5', '1', '']);
  });
});

describe('per-token cosine with the trained vector', () => {
  it('one bar per token, keyed by its set; ids as in the |cos| matrix', () => {
    const { rows, series } = tokenCosRows(REAL_STUDY);
    expect(series).toEqual([
      { key: 'g0', label: 'training prompts' },
      { key: 'g1', label: 'unrelated text' },
    ]);
    expect(rows).toEqual([
      { token: 'T1 ·Paris@5', g0: 0.62 },
      { token: 'T2 ·is@6', g0: 0.48 },
      { token: 'U1 ·Berlin@6', g1: 0.21 },
      { token: 'U2 The@0', g1: -0.05 },
    ]);
    expect(tokenCosMeansText(REAL_STUDY)).toBe('training prompts 0.55 · unrelated text 0.13 · all tokens 0.36');
  });
  it('CSV', () => {
    const csv = parseCsv(tokenCosCsv(REAL_STUDY));
    expect(csv[0]).toEqual(['index', 'set', 'token', 'cos_trained']);
    expect(csv.slice(1)).toEqual([
      ['0', 'train', '·Paris@5', '0.62'],
      ['1', 'train', '·is@6', '0.48'],
      ['2', 'unrelated', '·Berlin@6', '0.21'],
      ['3', 'unrelated', 'The@0', '-0.05'],
    ]);
  });
  it('toy studies: the |cos| matrix’s tokens', () => {
    expect(tokenCosRows(STUDY).rows.map((r) => r.token)).toEqual(['T1 codename_0@0', 'T2 rel_dist@2', 'T3 end@5', 'U1 noise_5@0', 'U2 noise_1@3', 'U3 end@5']);
    expect(tokenCosMeansText(STUDY)).toBe('training prompts 0.64 · unrelated text 0.03 · all tokens 0.33');
  });
  it('absent on records without them', () => {
    const old: LoraVsSteeringAnalysis = { ...STUDY, delta_cos_trained: undefined };
    expect(tokenCosRows(old)).toEqual({ rows: [], series: [] });
    expect(tokenCosMeansText(old)).toBe('');
    expect(parseCsv(tokenCosCsv(old))).toHaveLength(1);
  });
});

describe('seeds', () => {
  it('accuracies per seed, cosines between seeds, CSV with a cos column per seed', () => {
    expect(seedRows(REAL_STUDY)).toEqual([
      { seed: 'seed 0', acc: 0.85, side: 0.72, norm: 4.5 },
      { seed: 'seed 1000', acc: 0.8, side: 0.7, norm: 4.25 },
    ]);
    expect(seedPairs(REAL_STUDY)).toEqual([{ a: 0, b: 1000, cos: 0.3 }]);
    const csv = parseCsv(seedsCsv(REAL_STUDY));
    expect(csv).toEqual([
      ['seed', 'heldout_acc', 'heldout_acc_lo', 'heldout_acc_hi', 'heldout_n', 'side_effect_acc', 'side_effect_acc_lo', 'side_effect_acc_hi', 'side_effect_n', 'norm', 'cos_seed_0', 'cos_seed_1000'],
      ['0', '0.85', '', '', '', '0.72', '', '', '', '4.5', '1', '0.3'],
      ['1000', '0.8', '', '', '', '0.7', '', '', '', '4.25', '0.3', '1'],
    ]);
    expect(seedBarRows(REAL_STUDY)[0].accErr).toBeUndefined();
  });
  it('toy studies: both seeds on the study’s evaluation questions, with intervals', () => {
    expect(seedRows(STUDY).map((r) => r.seed)).toEqual(['seed 0', 'seed 1000']);
    expect(seedPairs(STUDY)).toEqual([{ a: 0, b: 1000, cos: STUDY.seeds?.cos[0][1] }]);
    const c = seedCis(STUDY);
    expect(c.map((s) => [s.acc.n, s.side.n])).toEqual([
      [800, 1600],
      [800, 1600],
    ]);
    expect(ciText(c[0].side)).toBe('0.975 [0.966, 0.982] (n = 1600)');
    expect(seedBarRows(STUDY)[0].sideErr).toEqual([expect.closeTo(0.975 - (c[0].side.lo ?? 0), 12), expect.closeTo((c[0].side.hi ?? 0) - 0.975, 12)]);
    const csv = parseCsv(seedsCsv(STUDY));
    expect(csv[1].slice(0, 10)).toEqual(['0', '1', String(c[0].acc.lo), '1', '800', '0.975', String(c[0].side.lo), String(c[0].side.hi), '1600', String(STUDY.seeds?.runs[0].norm)]);
  });
});
