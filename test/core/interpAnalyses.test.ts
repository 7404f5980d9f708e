import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/shared/modelConfig';
import { hookName } from '../../src/shared/hooks';
import { initBackend } from '../../src/core/backend/initBackend';
import { attentionPatterns } from '../../src/core/analysis/attention';
import { directLogitAttribution, logitLens } from '../../src/core/analysis/logitLens';
import { patchActivations, patchHeads, patchResidual } from '../../src/core/analysis/patching';
import { resolveCheckpoint } from '../../src/core/io/runStore';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { forward } from '../../src/core/model/forward';
import { toLiveModel, type LiveModel } from '../../src/core/model/liveModel';
import { initParams } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import { presetConfig } from '../../src/core/presets';
import { createOcrRecallTask } from '../../src/core/tasks/ocrRecall';
import { createWorld } from '../../src/core/tasks/world';
import { trainRun } from '../../src/core/train/trainRun';
import { Rng } from '../../src/core/util/rng';

/**
 * Interpretability analyses (attention, logit lens, DLA, activation patching) on trained toy models:
 * the shipped world-base (2 layers, softmax, LayerNorm, MLP) and a short ocr-factorized run (1 layer,
 * linear attention, no LayerNorm, no residual stream, identity embeddings).
 */

const WORLD_BASE = path.resolve(import.meta.dirname, '../../resources/workspace/world-base');
const world = createWorld();
const id = (name: string): number => {
  const i = world.vocab.indexOf(name);
  if (i < 0) throw new Error(`no token ${name}`);
  return i;
};
/** "noise_0 city_a rel_country noise_1 noise_2 end": the country question about city index a. */
const countryPrompt = (a: number): number[] => [id('noise_0'), id(`city_${a}`), id('rel_country'), id('noise_1'), id('noise_2'), id('end')];
const countryOf = (a: number): number => world.layout.countries[world.countryOf[a]];

let tmp: string;
let wb: LiveModel;
let ocr: LiveModel;
const ocrTask = createOcrRecallTask();

beforeAll(async () => {
  const backend = await initBackend();
  const ck = loadCheckpoint(resolveCheckpoint(WORLD_BASE).file);
  wb = toLiveModel(ck.config, ck.params, { trainable: false });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-interp-'));
  const config = { ...presetConfig('ocr-factorized'), steps: 300, logEvery: 100, checkpointEvery: 0, evalSamples: 60 };
  const run = await trainRun({ config, preset: 'ocr-factorized', outDir: path.join(tmp, 'ocr'), backend, finalEvalSamples: 60 });
  const ock = loadCheckpoint(resolveCheckpoint(run.runDir).file);
  ocr = toLiveModel(ock.config, ock.params, { trainable: false });
});

afterAll(() => {
  wb?.dispose();
  ocr?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs an analysis (or a failing call) and checks that it left no tensor behind. */
function noLeak<R>(fn: () => R): R {
  const before = tf.memory().numTensors;
  try {
    return fn();
  } finally {
    expect(tf.memory().numTensors).toBe(before);
  }
}

/** The model's logits at one position, [P][V]. */
function modelLogits(c: ModelConfig, m: LiveModel, tokens: number[][], position: number): number[][] {
  return tf.tidy(() => {
    const logits = forward(c, m.params, tf.tensor2d(tokens, undefined, 'int32')).logits;
    return (logits.arraySync() as number[][][]).map((row) => row[position]);
  });
}

/** An OCR fact prompt: noise, the name at 3, rel_fact at 9, end at 15. */
function ocrFact(name: number): number[] {
  const L = ocrTask.layout;
  const t = Array.from({ length: 16 }, (_, i) => L.noise[0] + (i % 5));
  t[3] = name;
  t[9] = L.relFact;
  t[15] = L.end;
  return t;
}

describe('attention patterns', () => {
  it('world-base: [head][prompt][query][key], causal, softmax rows sum to 1', () => {
    const prompts = [countryPrompt(3), countryPrompt(17)];
    const r = noLeak(() => attentionPatterns(wb.config, wb.params, prompts));
    expect(r.layers.map((l) => l.layer)).toEqual([0, 1]);
    expect(r.layers[1].hook).toBe('blocks.1.attn.hook_pattern');
    for (const { heads } of r.layers) {
      expect([heads.length, heads[0].length, heads[0][0].length, heads[0][0][0].length]).toEqual([4, 2, 6, 6]);
      for (const head of heads) for (const prompt of head) prompt.forEach((row, q) => {
        expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
        row.forEach((x, k) => (k > q ? expect(x).toBe(0) : expect(x).toBeGreaterThanOrEqual(0)));
      });
    }
    const only1 = noLeak(() => attentionPatterns(wb.config, wb.params, prompts, { layers: [1] }));
    expect(only1.layers.map((l) => l.layer)).toEqual([1]);
    expect(only1.layers[0].heads).toEqual(r.layers[1].heads);
  });

  it('ocr (linear attention): raw causal scores, one head', () => {
    const r = noLeak(() => attentionPatterns(ocr.config, ocr.params, [ocrFact(2)]));
    const rows = r.layers[0].heads[0][0];
    expect(rows.length).toBe(16);
    rows.forEach((row, q) => row.forEach((x, k) => k > q && expect(Math.abs(x)).toBe(0)));
  });
});

describe('logit lens', () => {
  it('world-base: the lens at the final resid_post equals the model logits (LayerNorm recomputed)', () => {
    const prompts = [countryPrompt(3), countryPrompt(22)];
    for (const position of [5, 2]) {
      const lens = noLeak(() => logitLens(wb.config, wb.params, prompts, { position, topK: wb.config.dVocab, targets: [countryOf(3), countryOf(22)] }));
      expect(lens.position).toBe(position);
      expect(lens.layerNorm).toBe(true);
      expect(lens.hooks.map((h) => h.hook)).toEqual(['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_post']);
      expect(lens.hooks.map((h) => h.depth)).toEqual([0, 1, 2]);
      const logits = modelLogits(wb.config, wb, prompts, position);
      lens.hooks[2].prompts.forEach((p, i) => {
        for (const t of p.top) expect(t.logit).toBeCloseTo(logits[i][t.token], 4);
        expect(p.top.reduce((s, t) => s + t.prob, 0)).toBeCloseTo(1, 5);
      });
    }
    // At the end token the model knows the answer; before any layer it does not.
    const lens = logitLens(wb.config, wb.params, prompts, { targets: [countryOf(3), countryOf(22)], topK: 3 });
    const [pre0, , post] = lens.hooks;
    post.prompts.forEach((p, i) => {
      expect(p.top[0].token).toBe([countryOf(3), countryOf(22)][i]);
      expect(p.target?.rank).toBe(0);
      expect(p.target?.prob).toBeGreaterThan(0.9);
    });
    pre0.prompts.forEach((p) => expect(p.target?.rank).toBeGreaterThan(0));
    expect(post.prompts[0].top).toHaveLength(3);
  });

  it('ocr (no LayerNorm, identity unembedding): the last hook equals the logits', () => {
    const prompts = [ocrFact(2), ocrFact(7)];
    const lens = noLeak(() => logitLens(ocr.config, ocr.params, prompts, { topK: 128 }));
    expect(lens.layerNorm).toBe(false);
    const logits = modelLogits(ocr.config, ocr, prompts, 15);
    lens.hooks[1].prompts.forEach((p, i) => p.top.forEach((t) => expect(t.logit).toBeCloseTo(logits[i][t.token], 4)));
  });
});

describe('direct logit attribution', () => {
  it('no LayerNorm, residual stream, MLP, biases: components + bias sum exactly to the logit', () => {
    const c = resolveConfig({ nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, dVocab: 20, nCtx: 8, mlp: true, posEmbed: true });
    const host = initParams(c, 7);
    const rng = new Rng(9);
    for (const name of ['unembed.b_U', 'blocks.0.mlp.b_out', 'blocks.1.mlp.b_in']) host[name].data.forEach((_, i, a) => (a[i] = rng.normal()));
    const m = toLiveModel(c, host, { trainable: false });
    const prompts = [[1, 5, 9, 3, 4, 19], [0, 2, 2, 7, 11, 6]];
    const r = noLeak(() => directLogitAttribution(c, m.params, prompts, { answer: [4, 8], baseline: 0 }));
    expect(r.layerNorm).toBe('none');
    expect(r.components.map((x) => x.label)).toEqual(['embed', 'pos_embed', 'L0H0', 'L0H1', 'MLP0', 'L1H0', 'L1H1', 'MLP1']);
    expect(r.baseline).toEqual([0, 0]);
    const logits = modelLogits(c, m, prompts, 5);
    expect(r.logit[0]).toBeCloseTo(logits[0][4] - logits[0][0], 4);
    expect(r.logit[1]).toBeCloseTo(logits[1][8] - logits[1][0], 4);
    r.sum.forEach((s, i) => expect(s).toBeCloseTo(r.logit[i], 4));
    // The bias term is exactly the unembedding bias difference here.
    const bU = host['unembed.b_U'].data;
    expect(r.bias[0]).toBeCloseTo(bU[4] - bU[0], 5);
    m.dispose();
  });

  it('ocr (no residual stream): only the last layer’s head is attributed, and it is the whole logit', () => {
    const name = ocrTask.layout.trainNames[0];
    const r = noLeak(() => directLogitAttribution(ocr.config, ocr.params, [ocrFact(name)], { answer: ocrTask.cityOf(name) }));
    expect(r.components.map((x) => x.label)).toEqual(['L0H0']);
    expect(r.bias).toEqual([0]);
    expect(r.baseline).toBeNull();
    expect(r.components[0].values[0]).toBeCloseTo(r.logit[0], 4);
  });

  it('world-base (LayerNorm, frozen scale): the decomposition still sums to the logit difference', () => {
    const prompts = [countryPrompt(3), countryPrompt(15)];
    const r = noLeak(() => directLogitAttribution(wb.config, wb.params, prompts, { answer: [countryOf(3), countryOf(15)], baseline: [countryOf(15), countryOf(3)] }));
    expect(r.layerNorm).toBe('frozen-scale');
    expect(r.components).toHaveLength(2 + 2 * 5);
    r.sum.forEach((s, i) => {
      expect(r.logit[i]).toBeGreaterThan(5);
      expect(s).toBeCloseTo(r.logit[i], 3);
    });
  });
});

describe('activation patching', () => {
  const ocrPair = (): { clean: number[]; corrupted: number[]; answer: number; wrong: number } => {
    const [a, b] = ocrTask.layout.trainNames;
    return { clean: ocrFact(a), corrupted: ocrFact(b), answer: ocrTask.cityOf(a), wrong: ocrTask.cityOf(b) };
  };

  it('invariants: nothing patched → 0, the whole clean residual → 1 (world-base and ocr)', () => {
    const cases = [
      { m: wb, clean: countryPrompt(3), corrupted: countryPrompt(12), answer: countryOf(3), wrong: countryOf(12) },
      { m: ocr, ...ocrPair() },
    ];
    for (const { m, clean, corrupted, answer, wrong } of cases) {
      const c = m.config;
      const L = c.nLayers;
      const run = (patches: Parameters<typeof patchActivations>[6]) => noLeak(() => patchActivations(c, m.params, clean, corrupted, answer, wrong, patches));
      const none = run([]);
      expect(none.metric).toBe(0);
      expect(Math.abs(none.cleanLogitDiff - none.corruptedLogitDiff)).toBeGreaterThan(1);
      expect(run([{ hook: hookName('hook_resid_post', L - 1) }]).metric).toBeCloseTo(1, 6);
      expect(run([{ hook: hookName('hook_resid_pre', 0) }]).metric).toBeCloseTo(1, 6);
      expect(run([{ hook: hookName('hook_resid_pre', 0), positions: clean.map((_, i) => i) }]).metric).toBeCloseTo(1, 6);

      // Sweep at the last resid_post: only the read-out position matters.
      const post = noLeak(() => patchResidual(c, m.params, clean, corrupted, answer, wrong, { hook: 'resid_post' }));
      const T = clean.length;
      expect(post.metric).toHaveLength(L);
      post.metric[L - 1].forEach((x, p) => expect(x).toBeCloseTo(p === T - 1 ? 1 : 0, 5));
      // Layer 0's resid_pre: the only position where the prompts differ carries everything.
      const pre = noLeak(() => patchResidual(c, m.params, clean, corrupted, answer, wrong));
      expect(pre.hook).toBe('resid_pre');
      pre.metric[0].forEach((x, p) => expect(x).toBeCloseTo(clean[p] !== corrupted[p] ? 1 : 0, 4));

      const heads = noLeak(() => patchHeads(c, m.params, clean, corrupted, answer, wrong, { perPosition: true }));
      expect(heads.metric.map((r) => r.length)).toEqual(new Array(L).fill(c.nHeads));
      expect(heads.perPosition?.[0][0]).toHaveLength(T);
      // A head's patch at all positions at once vs. the same patch through patchActivations.
      const z = hookName('attn.hook_z', L - 1);
      if (c.nHeads === 1) expect(heads.metric[L - 1][0]).toBeCloseTo(run([{ hook: z }]).metric, 4);
    }
  });

  it('world-base: the subject city carries the country; layer 0 moves it to the end token', () => {
    const pairs: [number, number][] = [
      [3, 12],
      [0, 27],
      [7, 22],
      [15, 1],
    ];
    for (const [a, b] of pairs) {
      const r = noLeak(() => patchResidual(wb.config, wb.params, countryPrompt(a), countryPrompt(b), countryOf(a), countryOf(b)));
      expect(r.cleanLogitDiff).toBeGreaterThan(5);
      expect(r.corruptedLogitDiff).toBeLessThan(-5);
      // Before layer 0, the subject's position (1) restores the answer and nothing else does.
      expect(r.metric[0][1]).toBeCloseTo(1, 4);
      for (const p of [0, 2, 3, 4, 5]) expect(Math.abs(r.metric[0][p])).toBeLessThan(1e-4);
      // After layer 0 most of it sits at the end token (5), some still at the subject.
      const layer1 = r.metric[1];
      expect(layer1.indexOf(Math.max(...layer1))).toBe(5);
      expect(layer1[5]).toBeGreaterThan(0.5);
      expect(layer1[1]).toBeGreaterThan(0.1);
    }
    // The batched sweep agrees with patching one position through patchActivations.
    const one = patchActivations(wb.config, wb.params, countryPrompt(3), countryPrompt(12), countryOf(3), countryOf(12), [{ hook: 'blocks.1.hook_resid_pre', positions: [5] }]);
    const sweep = patchResidual(wb.config, wb.params, countryPrompt(3), countryPrompt(12), countryOf(3), countryOf(12));
    expect(sweep.metric[1][5]).toBeCloseTo(one.metric, 5);
  });

  it('rejects bad inputs with clear errors and leaks nothing', () => {
    const c = wb.config;
    const p = wb.params;
    const ok = countryPrompt(3);
    noLeak(() => {
      expect(() => attentionPatterns(c, p, [ok, ok.slice(1)])).toThrow(/same length; prompt 1 has 5 tokens/);
      expect(() => attentionPatterns(c, p, [ok], { layers: [2] })).toThrow(/layer 2 outside 0..1/);
      expect(() => attentionPatterns(c, p, [[...ok.slice(0, 5), 62]])).toThrow(/token 62 is not an id in 0..61/);
      expect(() => attentionPatterns(c, p, [[...ok, 1]])).toThrow(/exceed the model's nCtx 6/);
      expect(() => attentionPatterns(c, p, [])).toThrow(/at least one prompt/);
      expect(() => logitLens(c, p, [ok], { position: 6 })).toThrow(/position 6 outside 0..5/);
      expect(() => logitLens(c, p, [ok, ok], { targets: [1] })).toThrow(/1 targets for 2 prompts/);
      expect(() => logitLens(c, p, [ok], { topK: 0 })).toThrow(/topK 0/);
      expect(() => directLogitAttribution(c, p, [ok], { answer: 99 })).toThrow(/token 99 is not an id/);
      expect(() => directLogitAttribution(c, p, [ok], { answer: 1, position: -1 })).toThrow(/position -1 outside/);
      expect(() => patchResidual(c, p, ok, ok.slice(1), 1, 2)).toThrow(/clean \(6 tokens\) and corrupted \(5 tokens\) prompts must have equal length/);
      expect(() => patchHeads(c, p, ok, ok, 1, 1)).toThrow(/same token/);
      expect(() => patchResidual(c, p, ok, ok, countryOf(3), countryOf(12))).toThrow(/same logit difference/);
      expect(() => patchActivations(c, p, ok, countryPrompt(12), 1, 2, [{ hook: 'blocks.0.hook_nope' as never }])).toThrow(/unknown hook/);
      expect(() => patchActivations(c, p, ok, countryPrompt(12), 1, 2, [{ hook: 'blocks.5.hook_resid_pre' }])).toThrow(/layer 5 outside 0..1/);
      expect(() => patchActivations(c, p, ok, countryPrompt(12), 1, 2, [{ hook: 'blocks.0.hook_resid_pre', positions: [6] }])).toThrow(/position 6 outside 0..5/);
      expect(() => patchActivations(ocr.config, ocr.params, ocrFact(2), ocrFact(3), 1, 2, [{ hook: 'blocks.0.mlp.hook_pre' }])).toThrow(/does not exist in this model/);
    });
  });
});
