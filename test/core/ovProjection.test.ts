import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { singularValues } from '../../src/core/analysis/linalg';
import { ovMatrix, ovSpectrum } from '../../src/core/analysis/ovSpectrum';
import { projectionRows, projectRun } from '../../src/core/analysis/projectRun';
import { pca3, project3 } from '../../src/core/analysis/projection';
import { initBackend } from '../../src/core/backend/initBackend';
import { initParams } from '../../src/core/model/params';
import { presetConfig } from '../../src/core/presets';
import { openRun, parsePrompt } from '../../src/core/runs/openRun';
import { Rng } from '../../src/core/util/rng';

beforeAll(async () => {
  await initBackend();
});

describe('OV spectrum', () => {
  it('W_OV = W_V · W_O per head, with rank ≤ r for a factorized head', () => {
    const c = presetConfig('ocr-factorized').model;
    const p = initParams(c, 3);
    const m = ovMatrix(p, 0, 0);
    const V = p['blocks.0.attn.W_V'];
    const O = p['blocks.0.attn.W_O'];
    let e = 0;
    for (let k = 0; k < 8; k++) e += V.data[5 * 8 + k] * O.data[k * 128 + 7];
    expect(m.data[5 * 128 + 7]).toBeCloseTo(e, 10);
    const s = singularValues(128, 128, m.data);
    expect(s.filter((x) => x > 1e-6 * s[0]).length).toBe(8);
  });

  it('the combined preset has W_V = I, so W_OV is W_O itself', () => {
    const c = presetConfig('ocr-combined').model;
    const p = initParams(c, 4);
    const m = ovMatrix(p, 0, 0);
    expect(Array.from(m.data.subarray(0, 128))).toEqual(Array.from(p['blocks.0.attn.W_O'].data.subarray(0, 128)));
  });

  it('reports steps in order, descending singular values and their sum as the nuclear norm', () => {
    const c = presetConfig('ocr-factorized').model;
    const s = ovSpectrum(c, [
      { step: 20, params: initParams(c, 2) },
      { step: 10, params: initParams(c, 1) },
    ]);
    expect(s.steps).toEqual([10, 20]);
    expect(s.heads).toHaveLength(1);
    const h = s.heads[0];
    expect(h).toMatchObject({ layer: 0, head: 0 });
    for (let i = 0; i < 2; i++) {
      const sv = h.singular_values[i];
      for (let k = 1; k < sv.length; k++) expect(sv[k]).toBeLessThanOrEqual(sv[k - 1] + 1e-12);
      expect(h.nuclear_norm[i]).toBeCloseTo(sv.reduce((a, b) => a + b, 0), 8);
    }
    expect(() => ovMatrix(initParams(c, 1), 0, 1)).toThrow(/head 1 outside 0..0/);
  });
});

describe('projections', () => {
  it('PCA of exactly 3-dimensional data explains 100% and preserves distances', () => {
    const rng = new Rng(9);
    const basis = [0, 1, 2].map(() => Array.from({ length: 10 }, () => rng.normal()));
    const n = 30;
    const data = new Float32Array(n * 10);
    const coeff: number[][] = [];
    for (let i = 0; i < n; i++) {
      const a = [rng.normal(), rng.normal(), rng.normal()];
      coeff.push(a);
      for (let j = 0; j < 10; j++) data[i * 10 + j] = 5 + a[0] * basis[0][j] + a[1] * basis[1][j] + a[2] * basis[2][j];
    }
    const { points, varianceRatio } = pca3({ n, d: 10, data });
    expect(varianceRatio.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const dist = (p: ArrayLike<number>, q: ArrayLike<number>): number => Math.hypot(...Array.from(p, (x, i) => x - q[i]));
    for (const [i, j] of [
      [0, 1],
      [3, 17],
      [5, 29],
    ]) {
      expect(dist(points[i], points[j])).toBeCloseTo(dist(data.subarray(i * 10, i * 10 + 10), data.subarray(j * 10, j * 10 + 10)), 3);
    }
  });

  it('UMAP returns one seeded, reproducible 3D point per row', () => {
    const rng = new Rng(2);
    const data = Float32Array.from({ length: 40 * 6 }, () => rng.normal());
    const labels = Array.from({ length: 40 }, (_, i) => ({ token: `t${i}`, group: i < 20 ? 'a' : 'b' }));
    const a = project3({ n: 40, d: 6, data }, labels, 'umap', { seed: 1, nNeighbors: 8 });
    const b = project3({ n: 40, d: 6, data }, labels, 'umap', { seed: 1, nNeighbors: 8 });
    expect(a.points).toHaveLength(40);
    expect(a.points[0]).toHaveLength(3);
    expect(a.points).toEqual(b.points);
    expect(() => project3({ n: 2, d: 6, data: data.subarray(0, 12) }, labels.slice(0, 2), 'pca')).toThrow(/at least 4 points/);
  });

  it('projects the world model’s embeddings and a residual hook with labels', () => {
    const run = openRun('resources/workspace/world-base');
    const before = tf.memory().numTensors;
    const emb = projectRun(run.config, run.params, run.vocab, run.task, { source: 'embed', method: 'pca' });
    expect(emb.points).toHaveLength(run.vocab.length);
    expect(emb.labels.find((l) => l.token === 'city_3')?.group).toBe('city');
    const resid = projectRun(run.config, run.params, run.vocab, run.task, { source: 'blocks.0.hook_resid_post', method: 'pca', promptsPerSet: 10, position: 'last' });
    expect(resid.points).toHaveLength(40);
    expect(resid.labels[0]).toMatchObject({ token: 'end', group: 'world_country', position: 5 });
    expect(resid.varianceRatio?.[0]).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => projectionRows(run.config, run.params, run.vocab, run.task, { source: 'blocks.7.hook_resid_post', method: 'pca' })).toThrow(/outside the model's layers/);
  });
});

describe('prompts', () => {
  it('parses token names and names an unknown one', () => {
    const vocab = ['rel_fact', 'rel_impl', 'name_0', 'name_1', 'end'];
    expect(parsePrompt(vocab, ' name_1  rel_fact end ')).toEqual([3, 0, 4]);
    expect(() => parsePrompt(vocab, 'name_9 end')).toThrow(/unknown token 'name_9' in the prompt \(e.g. name_0, name_1\)/);
    expect(() => parsePrompt(vocab, '')).toThrow(/empty prompt/);
    expect(() => parsePrompt(vocab, 'end end end', 2)).toThrow(/context is 2/);
  });
});
