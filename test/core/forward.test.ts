import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hookName, parseHookName } from '../../src/shared/hooks';
import { initBackend } from '../../src/core/backend/initBackend';
import { forward } from '../../src/core/model/forward';
import { toLiveModel } from '../../src/core/model/liveModel';
import { initParams } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import { presetConfig } from '../../src/core/presets';
import { Rng } from '../../src/core/util/rng';

beforeAll(async () => {
  await initBackend();
});

const tokens = (B: number, T: number, V: number, seed = 0): tf.Tensor2D => {
  const rng = new Rng(seed);
  return tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.int(0, V - 1)), [B, T], 'int32');
};

describe('hook names', () => {
  it('builds and parses TransformerLens names', () => {
    expect(hookName('attn.hook_pattern', 0)).toBe('blocks.0.attn.hook_pattern');
    expect(hookName('hook_resid_post', 3)).toBe('blocks.3.hook_resid_post');
    expect(hookName('hook_embed')).toBe('hook_embed');
    expect(parseHookName('blocks.2.attn.hook_z')).toEqual({ layer: 2, hook: 'attn.hook_z' });
    expect(parseHookName('blocks.2.attn.hook_nope')).toBeUndefined();
    expect(() => hookName('hook_resid_pre', -1)).toThrow(/non-negative integer layer/);
  });
});

describe('forward', () => {
  const soft = resolveConfig({ nLayers: 2, dModel: 24, nHeads: 3, dHead: 8, dVocab: 30, nCtx: 10, mlp: true, layerNorm: true, posEmbed: true });

  it('readout "last" equals the last position of the full forward pass', () => {
    const m = toLiveModel(soft, initParams(soft, 1));
    const [full, last] = tf.tidy(() => {
      const t = tokens(4, 10, 30);
      return [forward(soft, m.params, t).logits.slice([0, 9, 0], [4, 1, 30]).dataSync(), forward(soft, m.params, t, { readout: 'last' }).logits.dataSync()];
    });
    for (let i = 0; i < full.length; i++) expect(last[i]).toBeCloseTo(full[i], 4);
    m.dispose();
  });

  it('the one-hot fast path equals the dense path (identity embeddings)', () => {
    const c = presetConfig('ocr-factorized').model;
    const m = toLiveModel(c, initParams(c, 2));
    const [fast, dense] = tf.tidy(() => {
      const t = tokens(5, 16, 128, 3);
      // Caching hook_embed forces the dense one-hot residual stream.
      return [forward(c, m.params, t).logits.dataSync(), forward(c, m.params, t, { cache: ['hook_embed'] }).logits.dataSync()];
    });
    for (let i = 0; i < fast.length; i++) expect(fast[i]).toBeCloseTo(dense[i], 4);
    m.dispose();
  });

  it('caches hooks with the documented shapes; softmax patterns are causal and sum to 1', () => {
    const m = toLiveModel(soft, initParams(soft, 1));
    const before = tf.memory().numTensors;
    const shapes = tf.tidy(() => {
      const { cache } = forward(soft, m.params, tokens(2, 10, 30), { cache: 'all' });
      const pattern = cache['blocks.1.attn.hook_pattern'].arraySync() as number[][][][];
      for (const b of pattern) for (const h of b) h.forEach((row, q) => {
        expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
        row.forEach((x, k) => { if (k > q) expect(x).toBe(0); });
      });
      return Object.fromEntries(Object.entries(cache).map(([k, v]) => [k, v.shape]));
    });
    expect(shapes['hook_embed']).toEqual([2, 10, 24]);
    expect(shapes['blocks.0.attn.hook_q']).toEqual([2, 10, 3, 8]);
    expect(shapes['blocks.0.attn.hook_pattern']).toEqual([2, 3, 10, 10]);
    expect(shapes['blocks.1.attn.hook_z']).toEqual([2, 10, 3, 8]);
    expect(shapes['blocks.1.mlp.hook_post']).toEqual([2, 10, 96]);
    expect(shapes['blocks.1.hook_resid_post']).toEqual([2, 10, 24]);
    expect(shapes['ln_final.hook_normalized']).toEqual([2, 10, 24]);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('interventions: adding zero changes nothing, adding a vector at a position changes only later positions', () => {
    const m = toLiveModel(soft, initParams(soft, 4));
    const [base, zero, shifted] = tf.tidy(() => {
      const t = tokens(2, 10, 30, 5);
      const hook = hookName('hook_resid_post', 0);
      const base = forward(soft, m.params, t).logits.arraySync() as number[][][];
      const zero = forward(soft, m.params, t, { interventions: [{ hook, kind: 'add', value: tf.zeros([24]) }] }).logits.arraySync() as number[][][];
      // Not a constant vector: LayerNorm would remove that exactly.
      const v = tf.range(0, 24).mul(0.5);
      const shifted = forward(soft, m.params, t, { interventions: [{ hook, kind: 'add', value: v, positions: [6] }] }).logits.arraySync() as number[][][];
      return [base, zero, shifted];
    });
    expect(zero).toEqual(base);
    for (let p = 0; p < 6; p++) for (let i = 0; i < 30; i++) expect(shifted[0][p][i]).toBeCloseTo(base[0][p][i], 5);
    expect(Math.abs(shifted[0][6][0] - base[0][6][0])).toBeGreaterThan(1e-3);
    m.dispose();
  });

  it('replacing a hook with its own cached value reproduces the run; bad shapes and positions fail clearly', () => {
    const m = toLiveModel(soft, initParams(soft, 4));
    tf.tidy(() => {
      const t = tokens(2, 10, 30, 6);
      const hook = hookName('attn.hook_pattern', 1);
      const { logits, cache } = forward(soft, m.params, t, { cache: [hook] });
      const again = forward(soft, m.params, t, { interventions: [{ hook, kind: 'replace', value: cache[hook], positions: [2, 3] }] }).logits;
      expect(Array.from(again.dataSync())).toEqual(Array.from(logits.dataSync()));
      expect(() => forward(soft, m.params, t, { interventions: [{ hook, kind: 'replace', value: tf.zeros([1, 2]) }] })).toThrow(/replacement shape/);
      expect(() => forward(soft, m.params, t, { interventions: [{ hook: 'hook_embed', kind: 'add', value: tf.zeros([24]), positions: [10] }] })).toThrow(
        /position 10 outside 0..9/,
      );
    });
    m.dispose();
  });

  it('rejects sequences longer than nCtx', () => {
    const m = toLiveModel(soft, initParams(soft, 4));
    expect(() => tf.tidy(() => { forward(soft, m.params, tokens(1, 11, 30)); })).toThrow(/exceeds nCtx 10/);
    m.dispose();
  });
});

describe('resolveConfig', () => {
  it('checks combinations the schema cannot', () => {
    expect(() => resolveConfig({ embed: 'identity', dModel: 64, dVocab: 128 })).toThrow(/embed 'identity' needs dModel/);
    expect(() => resolveConfig({ wK: 'identity', dModel: 64, dHead: 16 })).toThrow(/wK 'identity' needs dHead/);
    expect(() => resolveConfig({ ov: 'factorized', ovRank: 100, dModel: 64 })).toThrow(/ovRank 100 exceeds dModel 64/);
    expect(() => resolveConfig({ nLayers: 0 })).toThrow(/nLayers/);
    expect(resolveConfig({ ov: 'combined', dModel: 32, dHead: 32 }).ovRank).toBe(32);
    expect(resolveConfig({ mlp: true, dModel: 16, dHead: 16 }).dMlp).toBe(64);
  });
});
