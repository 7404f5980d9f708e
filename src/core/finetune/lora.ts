import * as tf from '@tensorflow/tfjs';
import type { LoraSpec, LoraTarget } from '../../shared/finetune';
import type { ModelConfig } from '../../shared/modelConfig';
import type { Params } from '../model/forward';
import type { HostTensor } from '../model/params';
import { Rng } from '../util/rng';

/**
 * LoRA on any block matrix. Each target is viewed as the 2-D map it implements, [d_in, d_out]
 * (attention W_Q/K/V [H, d, k] as [d, H·k], the way HF models store q_proj; W_O [H, k, d] as [H·k, d]),
 * and adapted by ΔW = (alpha / r) · A B with A [d_in, r] ~ N(0, 1/d_in) and B [r, d_out] = 0, so a fresh
 * adapter is exactly the base model. Tensor names: `blocks.{l}.{target}.lora_A|lora_B`.
 */
export function loraTensorNames(spec: LoraSpec): { weight: string; a: string; b: string }[] {
  const out: { weight: string; a: string; b: string }[] = [];
  for (const l of spec.layers) for (const t of spec.targets) out.push({ weight: `blocks.${l}.${t}`, a: `blocks.${l}.${t}.lora_A`, b: `blocks.${l}.${t}.lora_B` });
  return out;
}

function matrixShape(c: ModelConfig, target: LoraTarget, weightShape: number[]): [number, number] {
  switch (target) {
    case 'attn.W_Q':
    case 'attn.W_K':
    case 'attn.W_V':
      return [weightShape[1], weightShape[0] * weightShape[2]];
    case 'attn.W_O':
      return [weightShape[0] * weightShape[1], weightShape[2]];
    case 'mlp.W_in':
    case 'mlp.W_out':
      if (!c.mlp) throw new Error(`LoRA target ${target}: the model has no MLP`);
      return [weightShape[0], weightShape[1]];
  }
}

export function checkLoraSpec(c: ModelConfig, spec: LoraSpec): void {
  for (const l of spec.layers) if (l >= c.nLayers) throw new Error(`LoRA layer ${l} outside 0..${c.nLayers - 1}`);
  for (const t of spec.targets) if (t.startsWith('mlp.') && !c.mlp) throw new Error(`LoRA target ${t}: the model has no MLP`);
}

export function initLora(c: ModelConfig, base: Record<string, { shape: number[] }>, spec: LoraSpec, seed: number): Record<string, HostTensor> {
  checkLoraSpec(c, spec);
  const rng = new Rng(seed ^ 0x10a);
  const out: Record<string, HostTensor> = {};
  for (const { weight, a, b } of loraTensorNames(spec)) {
    const target = weight.slice(weight.indexOf('.', 'blocks.'.length) + 1) as LoraTarget;
    const ws = base[weight];
    if (!ws) throw new Error(`LoRA target ${weight} not in the model`);
    const [dIn, dOut] = matrixShape(c, target, ws.shape);
    const A = new Float32Array(dIn * spec.rank);
    const std = 1 / Math.sqrt(dIn);
    for (let i = 0; i < A.length; i++) A[i] = rng.normal() * std;
    out[a] = { shape: [dIn, spec.rank], data: A };
    out[b] = { shape: [spec.rank, dOut], data: new Float32Array(spec.rank * dOut) };
  }
  return out;
}

/** ΔW of one target in the weight's own shape. */
export function loraDelta(weightShape: number[], target: LoraTarget, A: tf.Tensor, B: tf.Tensor, scale: number): tf.Tensor {
  const d = tf.matMul(A as tf.Tensor2D, B as tf.Tensor2D).mul(scale);
  switch (target) {
    case 'attn.W_Q':
    case 'attn.W_K':
    case 'attn.W_V': {
      const [H, dIn, k] = weightShape;
      return d.reshape([dIn, H, k]).transpose([1, 0, 2]);
    }
    default:
      return d.reshape(weightShape);
  }
}

/** The adapted parameters W + ΔW (differentiable in the adapter tensors). */
export function applyLora(base: Params, adapter: Params, spec: LoraSpec): Params {
  const out: Params = { ...base };
  const scale = spec.alpha / spec.rank;
  for (const { weight, a, b } of loraTensorNames(spec)) {
    const target = weight.slice(weight.indexOf('.', 'blocks.'.length) + 1) as LoraTarget;
    out[weight] = base[weight].add(loraDelta(base[weight].shape, target, adapter[a], adapter[b], scale));
  }
  return out;
}

/** ΔW = (alpha / r) A B as a host matrix [d_in, d_out], for spectra. */
export function loraDeltaMatrix(adapter: Record<string, HostTensor>, spec: LoraSpec, weight: string): { rows: number; cols: number; data: Float32Array } {
  const A = adapter[`${weight}.lora_A`];
  const B = adapter[`${weight}.lora_B`];
  if (!A || !B) throw new Error(`no LoRA adapter for ${weight}`);
  const [rows, r] = A.shape;
  const cols = B.shape[1];
  const scale = spec.alpha / spec.rank;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let k = 0; k < r; k++) {
      const a = A.data[i * r + k] * scale;
      if (a === 0) continue;
      for (let j = 0; j < cols; j++) data[i * cols + j] += a * B.data[k * cols + j];
    }
  return { rows, cols, data };
}
