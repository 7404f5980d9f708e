import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { forward, type Params } from '../../src/core/model/forward';
import { toLiveModel } from '../../src/core/model/liveModel';
import { initParams } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import type { ModelConfig } from '../../src/shared/modelConfig';
import { Rng } from '../../src/core/util/rng';

/**
 * The real-model layout of forward (per-head 2-D attention products, per-block tidy, W_E-left tied
 * unembedding), chosen by default from a 4096-token vocabulary on, must compute what the toy layout
 * does. The HF fixtures have small vocabularies, so without this file CI would never run it: tiny
 * models with a wide vocabulary, random weights, both layouts pinned through `largeModel`.
 */
beforeAll(async () => {
  await initBackend();
});

const tokens = (B: number, T: number, V: number, seed: number): tf.Tensor2D => {
  const rng = new Rng(seed);
  return tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.int(0, V - 1)), [B, T], 'int32');
};

function maxRelErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / scale;
}

const HOOKS = ['blocks.0.attn.hook_attn_scores', 'blocks.0.attn.hook_pattern', 'blocks.1.attn.hook_z', 'blocks.1.hook_resid_post'] as const;

/** Logits and a few hooks of one forward in the given layout, as host arrays. */
function run(c: ModelConfig, params: Params, ids: tf.Tensor2D, largeModel: boolean, readout: 'all' | 'last' = 'all'): Float32Array[] {
  return tf.tidy(() => {
    const r = forward(c, params, ids, { cache: [...HOOKS], largeModel, readout });
    return [r.logits, ...HOOKS.map((h) => r.cache[h])].map((t) => t.dataSync() as Float32Array);
  });
}

const gpt2Like = resolveConfig({
  nLayers: 2, dModel: 32, nHeads: 4, dHead: 8, dVocab: 4096, nCtx: 16, mlp: true, layerNorm: true, posEmbed: true, unembed: 'tied', qkvBias: true, attnOutBias: true,
});
// Grouped-query (2 query heads per kv head), rotary, RMSNorm, gated MLP: the Llama family's switches.
const llamaLike = resolveConfig({
  nLayers: 2, dModel: 32, nHeads: 4, dHead: 8, dVocab: 4096, nCtx: 16, mlp: true, layerNorm: true, norm: 'RMS', rotaryDims: 8, nKeyValueHeads: 2, gatedMlp: true, act: 'silu', mlpBias: false, unembedBias: false,
});

describe('forward: the large-model layout equals the toy layout', () => {
  it.each([
    ['GPT-2-like (tied unembedding, biases)', gpt2Like],
    ['Llama-like (GQA, rotary, RMSNorm, gated MLP)', llamaLike],
  ])('%s: logits and hooks agree, readout all and last', (_, c) => {
    const m = toLiveModel(c, initParams(c, 11));
    const ids = tokens(2, 12, c.dVocab, 5);
    for (const readout of ['all', 'last'] as const) {
      const large = run(c, m.params, ids, true, readout);
      const toy = run(c, m.params, ids, false, readout);
      // Same sums in another order (XNNPACK's blocked kernel against the batched loop): float rounding only.
      large.forEach((x, i) => expect(maxRelErr(x, toy[i])).toBeLessThanOrEqual(1e-5));
    }
    // The default for a 4096-token vocabulary is the large layout: same numbers bit for bit.
    const byDefault = tf.tidy(() => forward(c, m.params, ids).logits.dataSync() as Float32Array);
    expect(Array.from(byDefault)).toEqual(Array.from(run(c, m.params, ids, true)[0]));
    ids.dispose();
    m.dispose();
  });

  it('gradients through the per-head products agree (LoRA fine-tuning of a real model differentiates them)', () => {
    const c = gpt2Like;
    const m = toLiveModel(c, initParams(c, 12));
    const ids = tokens(2, 10, c.dVocab, 6);
    const names = ['blocks.0.attn.W_Q', 'blocks.0.attn.W_K', 'blocks.1.attn.W_V'];
    const grads = (largeModel: boolean): Float32Array[] =>
      tf.tidy(() => {
        const f = (...xs: tf.Tensor[]): tf.Scalar => {
          const p = { ...m.params, ...Object.fromEntries(names.map((n, i) => [n, xs[i]])) };
          return forward(c, p, ids, { largeModel }).logits.square().mean() as tf.Scalar;
        };
        return tf.grads(f)(names.map((n) => m.params[n])).map((g) => g.dataSync() as Float32Array);
      });
    const large = grads(true);
    const toy = grads(false);
    large.forEach((g, i) => expect(maxRelErr(g, toy[i])).toBeLessThanOrEqual(1e-4));
    ids.dispose();
    m.dispose();
  });

  it('grouped-query attention is differentiable in the large layout, as the same model with kv heads copied per query head', () => {
    // The toy layout cannot differentiate GQA (repeatKv tiles at rank 5, which has no gradient in tfjs);
    // the reference is the toy layout on the equivalent multi-head model, each kv head gathered once per
    // query head that reads it, so the gather's gradient sums the copies' gradients.
    const c = llamaLike;
    const mha = resolveConfig({ ...llamaLike, nKeyValueHeads: 4 });
    const m = toLiveModel(c, initParams(c, 14));
    const ids = tokens(2, 10, c.dVocab, 8);
    const names = ['blocks.0.attn.W_K', 'blocks.0.attn.W_V', 'blocks.1.attn.W_K', 'blocks.1.attn.W_V'];
    const grads = (gqa: boolean): Float32Array[] =>
      tf.tidy(() => {
        const f = (...xs: tf.Tensor[]): tf.Scalar => {
          const kv = (w: tf.Tensor): tf.Tensor => (gqa ? w : tf.gather(w, [0, 0, 1, 1]));
          const p = { ...m.params, ...Object.fromEntries(names.map((n, i) => [n, kv(xs[i])])) };
          return forward(gqa ? c : mha, p, ids, { largeModel: gqa }).logits.square().mean() as tf.Scalar;
        };
        return tf.grads(f)(names.map((n) => m.params[n])).map((g) => g.dataSync() as Float32Array);
      });
    const large = grads(true);
    const reference = grads(false);
    large.forEach((g, i) => expect(maxRelErr(g, reference[i])).toBeLessThanOrEqual(1e-4));
    ids.dispose();
    m.dispose();
  });

  it('leaves no tensors behind across repeated forwards', () => {
    const m = toLiveModel(gpt2Like, initParams(gpt2Like, 13));
    const ids = tokens(1, 16, gpt2Like.dVocab, 7);
    run(gpt2Like, m.params, ids, true);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run(gpt2Like, m.params, ids, true);
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    m.dispose();
  });
});
