import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoraSpec, LoraTarget } from '../../src/shared/finetune';
import type { ModelConfig } from '../../src/shared/modelConfig';
import { initBackend } from '../../src/core/backend/initBackend';
import { applyLora, initLora } from '../../src/core/finetune/lora';
import { forward, type Params } from '../../src/core/model/forward';
import { initParams, type HostTensor } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import { presetConfig } from '../../src/core/presets';
import { Rng } from '../../src/core/util/rng';

/**
 * forward(..., { adapter }) — the unmerged LoRA that Hugging Face adapters load into — computes what
 * the merged W + (alpha / r)·A·B of src/core/finetune/lora.ts computes, on dense and one-hot inputs.
 */

beforeAll(async () => {
  await initBackend();
});

const TARGETS: LoraTarget[] = ['attn.W_Q', 'attn.W_K', 'attn.W_V', 'attn.W_O', 'mlp.W_in', 'mlp.W_out'];

function toParams(host: Record<string, HostTensor>): Params {
  return Object.fromEntries(Object.entries(host).map(([k, h]) => [k, tf.tensor(h.data, h.shape)]));
}

function check(c: ModelConfig, targets: LoraTarget[]): void {
  const spec: LoraSpec = { rank: 3, alpha: 6, targets, layers: Array.from({ length: c.nLayers }, (_, l) => l) };
  const rng = new Rng(5);
  const host = initLora(c, initParams(c, 1), spec, 2);
  for (const [k, h] of Object.entries(host)) if (k.endsWith('lora_B')) h.data = h.data.map(() => rng.normal());
  const base = toParams(initParams(c, 1));
  const adapter = toParams(host);
  const before = tf.memory().numTensors;
  const [merged, unmerged, plain] = tf.tidy(() => {
    const tokens = tf.tensor2d([[1, 4, 2, 7, 3, 0]], [1, 6], 'int32');
    // The unmerged form carries the scale in lora_B.
    const scaled = Object.fromEntries(Object.entries(adapter).map(([k, t]) => [k, k.endsWith('lora_B') ? t.mul(spec.alpha / spec.rank) : t]));
    return [
      forward(c, applyLora(base, adapter, spec), tokens).logits.dataSync(),
      forward(c, base, tokens, { adapter: scaled }).logits.dataSync(),
      forward(c, base, tokens).logits.dataSync(),
    ];
  });
  expect(tf.memory().numTensors).toBe(before);
  let diff = 0;
  let moved = 0;
  for (let i = 0; i < merged.length; i++) {
    diff = Math.max(diff, Math.abs(merged[i] - unmerged[i]));
    moved = Math.max(moved, Math.abs(merged[i] - plain[i]));
  }
  expect(diff).toBeLessThan(1e-4);
  expect(moved).toBeGreaterThan(1e-2);
  Object.values(base).forEach((t) => t.dispose());
  Object.values(adapter).forEach((t) => t.dispose());
}

describe('unmerged LoRA adapter in forward()', () => {
  it('equals the merged weights on a dense two-layer model (every target)', () => {
    check(resolveConfig({ nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, ovRank: 4, dVocab: 20, nCtx: 6, mlp: true, dMlp: 24, layerNorm: true, posEmbed: true }), TARGETS);
  });

  it('equals the merged weights on the one-hot path (identity embeddings)', () => {
    check(presetConfig('ocr-factorized').model, ['attn.W_Q', 'attn.W_V', 'attn.W_O']);
  });
});
