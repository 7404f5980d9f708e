import type { ModelConfig } from '../../../shared/modelConfig';
import type { HfConfigReader } from '../configReader';
import type { WeightSource } from '../weightSource';

/** Canonical block matrices a Hugging Face linear layer can hold (TransformerLens names). */
export type HfTarget = 'attn.W_Q' | 'attn.W_K' | 'attn.W_V' | 'attn.W_O' | 'mlp.W_in' | 'mlp.W_gate' | 'mlp.W_out';

/**
 * One linear layer of a Hugging Face block and the canonical matrices its outputs hold. Canonical
 * column c of part p is the layer's output unit `p.units[c]`; inputs keep their order (true for every
 * supported architecture, W_O's head-major input included). The same description converts weights,
 * biases and LoRA adapters.
 */
export interface LinearModule {
  /** Path within the block, e.g. 'attn.c_attn' or 'self_attn.q_proj'. */
  name: string;
  /** 'linear': torch nn.Linear, weight [out, in]; 'conv1d': GPT-2's Conv1D, weight [in, out]. */
  layout: 'linear' | 'conv1d';
  inDim: number;
  outDim: number;
  bias: boolean;
  parts: { target: HfTarget; units: Int32Array }[];
}

export type PutTensor = (name: string, shape: number[], data: Float32Array) => void;

/** One file per architecture family, as TransformerLens's weight_conversions (STYLE.md §6). */
export interface HfArchitecture {
  /** `model_type` values of config.json this file reads. */
  modelTypes: readonly string[];
  /** Base-model prefixes tensor names may carry ('transformer.'): stripped before lookup. */
  prefixes: readonly string[];
  /** Stored tensors that are not weights of the language model (attention-mask buffers, vision towers). */
  ignore: RegExp;
  config(hf: HfConfigReader, modelType: string): ModelConfig;
  /** Prefix of block l's module paths, after prefix stripping: 'h.3.', 'layers.3.'. */
  blockPrefix(l: number): string;
  linearModules(c: ModelConfig): LinearModule[];
  /** Embeddings, norms and unembedding: every weight outside the linear modules. */
  convertRest(src: WeightSource, c: ModelConfig, put: PutTensor): void;
}

/** Output units [offset, offset + n). */
export function unitRange(n: number, offset = 0): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => offset + i);
}
