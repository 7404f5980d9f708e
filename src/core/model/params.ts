import type { ModelConfig } from '../../shared/modelConfig';
import { Rng } from '../util/rng';
import { dV } from './resolveConfig';

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

/** Parameter names and shapes follow TransformerLens (`blocks.0.attn.W_Q` is [n_heads, d_model, d_head]). */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const d = c.dModel;
  const H = c.nHeads;
  specs.push({ name: 'embed.W_E', shape: [c.dVocab, d], trainable: c.embed === 'learned', init: c.embed === 'identity' ? 'identity' : 'normal', fanIn: 1 });
  if (c.posEmbed) specs.push({ name: 'pos_embed.W_pos', shape: [c.nCtx, d], trainable: true, init: 'normal', fanIn: 1 });
  for (let l = 0; l < c.nLayers; l++) {
    const p = `blocks.${l}`;
    if (c.layerNorm) {
      specs.push({ name: `${p}.ln1.w`, shape: [d], trainable: true, init: 'ones', fanIn: 1 });
      specs.push({ name: `${p}.ln1.b`, shape: [d], trainable: true, init: 'zeros', fanIn: 1 });
    }
    specs.push({ name: `${p}.attn.W_Q`, shape: [H, d, c.dHead], trainable: true, init: 'normal', fanIn: d });
    specs.push({
      name: `${p}.attn.W_K`,
      shape: [H, d, c.dHead],
      trainable: c.wK === 'learned',
      init: c.wK === 'identity' ? 'identity' : 'normal',
      fanIn: d,
    });
    specs.push({
      name: `${p}.attn.W_V`,
      shape: [H, d, dV(c)],
      trainable: c.ov === 'factorized',
      init: c.ov === 'combined' ? 'identity' : 'normal',
      fanIn: d,
    });
    specs.push({ name: `${p}.attn.W_O`, shape: [H, dV(c), d], trainable: true, init: 'normal', fanIn: dV(c) * H });
    if (c.mlp) {
      if (c.layerNorm) {
        specs.push({ name: `${p}.ln2.w`, shape: [d], trainable: true, init: 'ones', fanIn: 1 });
        specs.push({ name: `${p}.ln2.b`, shape: [d], trainable: true, init: 'zeros', fanIn: 1 });
      }
      specs.push({ name: `${p}.mlp.W_in`, shape: [d, c.dMlp], trainable: true, init: 'normal', fanIn: d });
      specs.push({ name: `${p}.mlp.b_in`, shape: [c.dMlp], trainable: true, init: 'zeros', fanIn: 1 });
      specs.push({ name: `${p}.mlp.W_out`, shape: [c.dMlp, d], trainable: true, init: 'normal', fanIn: c.dMlp });
      specs.push({ name: `${p}.mlp.b_out`, shape: [d], trainable: true, init: 'zeros', fanIn: 1 });
    }
  }
  if (c.layerNorm) {
    specs.push({ name: 'ln_final.w', shape: [d], trainable: true, init: 'ones', fanIn: 1 });
    specs.push({ name: 'ln_final.b', shape: [d], trainable: true, init: 'zeros', fanIn: 1 });
  }
  if (c.unembed !== 'tied') {
    specs.push({
      name: 'unembed.W_U',
      shape: [d, c.dVocab],
      trainable: c.unembed === 'learned',
      init: c.unembed === 'identity' ? 'identity' : 'normal',
      fanIn: d,
    });
  }
  if (c.unembed === 'learned') specs.push({ name: 'unembed.b_U', shape: [c.dVocab], trainable: true, init: 'zeros', fanIn: 1 });
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
