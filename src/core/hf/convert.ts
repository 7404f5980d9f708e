import type { ModelConfig } from '../../shared/modelConfig';
import { paramSpecs, type HostTensor } from '../model/params';
import type { HfArchitecture, HfTarget, LinearModule, PutTensor } from './architectures/types';
import type { WeightSource } from './weightSource';

const BIAS_OF: Record<HfTarget, string | null> = {
  'attn.W_Q': 'attn.b_Q',
  'attn.W_K': 'attn.b_K',
  'attn.W_V': 'attn.b_V',
  'attn.W_O': 'attn.b_O',
  'mlp.W_in': 'mlp.b_in',
  'mlp.W_gate': null,
  'mlp.W_out': 'mlp.b_out',
};

/** Per-head input projections are stored [H, d_in, d_head]; every other matrix as the 2-D map [d_in, d_out]. */
export function isHeadProjection(target: HfTarget): boolean {
  return target === 'attn.W_Q' || target === 'attn.W_K' || target === 'attn.W_V';
}

/** Element (input i, output unit u) of a module's stored weight. */
function weightAt(m: LinearModule, w: Float32Array): (i: number, u: number) => number {
  return m.layout === 'linear' ? (i, u) => w[u * m.inDim + i] : (i, u) => w[i * m.outDim + u];
}

/** The module's stored weight shape. */
export function storedShape(m: LinearModule): [number, number] {
  return m.layout === 'linear' ? [m.outDim, m.inDim] : [m.inDim, m.outDim];
}

/** Canonical shape of a part with `n` output columns, `dHead` wide heads. */
export function canonicalShape(target: HfTarget, inDim: number, n: number, dHead: number): number[] {
  if (isHeadProjection(target)) return [n / dHead, inDim, dHead];
  // W_O [H, d_head, d_model] is its 2-D map [H·d_head, d_model] with the input split by head.
  return target === 'attn.W_O' ? [inDim / dHead, dHead, n] : [inDim, n];
}

function writePart(m: LinearModule, w: Float32Array, units: Int32Array, target: HfTarget, dHead: number): Float32Array {
  const at = weightAt(m, w);
  const n = units.length;
  const out = new Float32Array(m.inDim * n);
  if (isHeadProjection(target)) {
    // [H, d_in, k]: head h, input i, column j is 2-D column h·k + j.
    const H = n / dHead;
    for (let h = 0; h < H; h++)
      for (let i = 0; i < m.inDim; i++) {
        const row = (h * m.inDim + i) * dHead;
        for (let j = 0; j < dHead; j++) out[row + j] = at(i, units[h * dHead + j]);
      }
  } else {
    for (let i = 0; i < m.inDim; i++) for (let c = 0; c < n; c++) out[i * n + c] = at(i, units[c]);
  }
  return out;
}

/**
 * A Hugging Face state dict → the canonical TransformerLens-named parameters of `c`, each handed to
 * `sink` as soon as it is converted (a loader can upload it and drop the host copy, so the weights are
 * never held twice). Every parameter the config implies must be produced (checked against paramSpecs),
 * with its exact shape.
 */
export function convertWeightsInto(arch: HfArchitecture, src: WeightSource, c: ModelConfig, sink: PutTensor): void {
  const shapes = new Map<string, number[]>();
  const put: PutTensor = (name, shape, data) => {
    shapes.set(name, shape);
    sink(name, shape, data);
  };
  arch.convertRest(src, c, put);
  const modules = arch.linearModules(c);
  for (let l = 0; l < c.nLayers; l++) {
    for (const m of modules) {
      const hf = `${arch.blockPrefix(l)}${m.name}`;
      const w = src.take(`${hf}.weight`, storedShape(m), `${m.name} of layer ${l} (${m.inDim} → ${m.outDim} from config.json)`);
      const b = m.bias ? src.take(`${hf}.bias`, [m.outDim], `${m.name} bias of layer ${l}`) : null;
      for (const part of m.parts) {
        const n = part.units.length;
        put(`blocks.${l}.${part.target}`, canonicalShape(part.target, m.inDim, n, c.dHead), writePart(m, w, part.units, part.target, c.dHead));
        const biasName = BIAS_OF[part.target];
        if (b && biasName) {
          const data = Float32Array.from(part.units, (u) => b[u]);
          put(`blocks.${l}.${biasName}`, isHeadProjection(part.target) ? [n / c.dHead, c.dHead] : [n], data);
        }
      }
    }
  }
  const problems: string[] = [];
  for (const s of paramSpecs(c)) {
    const shape = shapes.get(s.name);
    if (!shape) problems.push(`no ${s.name}`);
    else if (shape.join(',') !== s.shape.join(',')) problems.push(`${s.name} is [${shape}] not [${s.shape}]`);
  }
  // A converter bug, not a bad folder: the tensors were all found, yet the canonical model is incomplete.
  if (problems.length) throw new Error(`internal: conversion from ${src.dir} is incomplete: ${problems.slice(0, 5).join('; ')}`);
}

/** The canonical parameters on the host (see convertWeightsInto). */
export function convertWeights(arch: HfArchitecture, src: WeightSource, c: ModelConfig): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  convertWeightsInto(arch, src, c, (name, shape, data) => {
    out[name] = { shape, data };
  });
  return out;
}
