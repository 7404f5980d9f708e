import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../shared/modelConfig';
import { Rng } from '../util/rng';
import type { Params } from './forward';
import { archOf, dV } from './resolveConfig';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Frozen parameters are saved in checkpoints too, so a checkpoint alone defines the model. */
  trainable: boolean;
  init: 'normal' | 'zeros' | 'ones' | 'identity';
  fanIn: number;
}

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Parameter names and shapes follow TransformerLens (`blocks.0.attn.W_Q` is [n_heads, d_model, d_head]).
 * With grouped-query attention W_K / W_V (and b_K / b_V) have n_key_value_heads rows, as TL's `_W_K`.
 * Real-architecture parameters (biases, gates, extra norms) exist only where the config switches them
 * on, so a toy config's list is exactly what it always was.
 */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const a = archOf(c);
  const specs: ParamSpec[] = [];
  const d = c.dModel;
  const H = c.nHeads;
  const Hkv = a.nKeyValueHeads;
  const norm = (name: string): void => {
    specs.push({ name: `${name}.w`, shape: [d], trainable: true, init: 'ones', fanIn: 1 });
    if (a.norm === 'LN') specs.push({ name: `${name}.b`, shape: [d], trainable: true, init: 'zeros', fanIn: 1 });
  };
  const bias = (name: string, shape: number[]): void => {
    specs.push({ name, shape, trainable: true, init: 'zeros', fanIn: 1 });
  };
  specs.push({ name: 'embed.W_E', shape: [c.dVocab, d], trainable: c.embed === 'learned', init: c.embed === 'identity' ? 'identity' : 'normal', fanIn: 1 });
  if (c.posEmbed) specs.push({ name: 'pos_embed.W_pos', shape: [c.nCtx, d], trainable: true, init: 'normal', fanIn: 1 });
  for (let l = 0; l < c.nLayers; l++) {
    const p = `blocks.${l}`;
    if (c.layerNorm) norm(`${p}.ln1`);
    specs.push({ name: `${p}.attn.W_Q`, shape: [H, d, c.dHead], trainable: true, init: 'normal', fanIn: d });
    specs.push({
      name: `${p}.attn.W_K`,
      shape: [Hkv, d, c.dHead],
      trainable: c.wK === 'learned',
      init: c.wK === 'identity' ? 'identity' : 'normal',
      fanIn: d,
    });
    specs.push({
      name: `${p}.attn.W_V`,
      shape: [Hkv, d, dV(c)],
      trainable: c.ov === 'factorized',
      init: c.ov === 'combined' ? 'identity' : 'normal',
      fanIn: d,
    });
    specs.push({ name: `${p}.attn.W_O`, shape: [H, dV(c), d], trainable: true, init: 'normal', fanIn: dV(c) * H });
    if (a.qkvBias) {
      bias(`${p}.attn.b_Q`, [H, c.dHead]);
      bias(`${p}.attn.b_K`, [Hkv, c.dHead]);
      bias(`${p}.attn.b_V`, [Hkv, dV(c)]);
    }
    if (a.attnOutBias) bias(`${p}.attn.b_O`, [d]);
    if (a.qkNorm) {
      specs.push({ name: `${p}.attn.q_norm.w`, shape: [c.dHead], trainable: true, init: 'ones', fanIn: 1 });
      specs.push({ name: `${p}.attn.k_norm.w`, shape: [c.dHead], trainable: true, init: 'ones', fanIn: 1 });
    }
    if (a.postNorms) norm(`${p}.ln1_post`);
    if (c.mlp) {
      if (c.layerNorm) norm(`${p}.ln2`);
      specs.push({ name: `${p}.mlp.W_in`, shape: [d, c.dMlp], trainable: true, init: 'normal', fanIn: d });
      if (a.mlpBias) bias(`${p}.mlp.b_in`, [c.dMlp]);
      if (a.gatedMlp) specs.push({ name: `${p}.mlp.W_gate`, shape: [d, c.dMlp], trainable: true, init: 'normal', fanIn: d });
      specs.push({ name: `${p}.mlp.W_out`, shape: [c.dMlp, d], trainable: true, init: 'normal', fanIn: c.dMlp });
      if (a.mlpBias) bias(`${p}.mlp.b_out`, [d]);
      if (a.postNorms) norm(`${p}.ln2_post`);
    }
  }
  if (c.layerNorm) norm('ln_final');
  if (c.unembed !== 'tied') {
    specs.push({
      name: 'unembed.W_U',
      shape: [d, c.dVocab],
      trainable: c.unembed === 'learned',
      init: c.unembed === 'identity' ? 'identity' : 'normal',
      fanIn: d,
    });
  }
  if (c.unembed === 'learned' && a.unembedBias) bias('unembed.b_U', [c.dVocab]);
  return specs;
}

/**
 * Initial weights from the seeded JS PRNG (identical on every backend). Normal inits use
 * std = initScale / sqrt(fan_in); embeddings use std = initScale (fan_in 1), as GPT-2 style models do
 * after their own scaling.
 */
export function initParams(c: ModelConfig, seed: number): Record<string, HostTensor> {
  const rng = new Rng(seed ^ 0x5eed);
  const out: Record<string, HostTensor> = {};
  for (const s of paramSpecs(c)) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const r = rng.fork(hashName(s.name));
    switch (s.init) {
      case 'normal': {
        const std = (s.fanIn === 1 ? 0.1 : 1 / Math.sqrt(s.fanIn)) * c.initScale;
        for (let i = 0; i < size; i++) data[i] = r.normal() * std;
        break;
      }
      case 'ones':
        data.fill(1);
        break;
      case 'zeros':
        break;
      case 'identity': {
        // Identity in the last two dims, for every leading index (e.g. per head).
        const rows = s.shape[s.shape.length - 2];
        const cols = s.shape[s.shape.length - 1];
        const blocks = size / (rows * cols);
        for (let b = 0; b < blocks; b++) for (let i = 0; i < Math.min(rows, cols); i++) data[b * rows * cols + i * cols + i] = 1;
        break;
      }
    }
    out[s.name] = { shape: s.shape, data };
  }
  return out;
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Host weights as tensors on the backend (frozen; the caller disposes them, or creates them inside tf.tidy). */
export function liveParams(host: Record<string, HostTensor>): Params {
  const p: Params = {};
  for (const [k, h] of Object.entries(host)) p[k] = tf.tensor(h.data, h.shape);
  return p;
}
