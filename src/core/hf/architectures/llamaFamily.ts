import type { ModelConfig } from '../../../shared/modelConfig';
import { archOf } from '../../model/resolveConfig';
import type { WeightSource } from '../weightSource';
import { plusOne, transpose } from './shared';
import { unitRange, type LinearModule, type PutTensor } from './types';

/**
 * What Llama, Qwen2 and Gemma share: separate q/k/v/o projections (nn.Linear, [out, in], head-major
 * outputs, k/v with n_key_value_heads), a SwiGLU/GeGLU MLP (gate_proj, up_proj, down_proj) and
 * RMSNorm; names under `layers.{l}.`, `embed_tokens`, `norm`, `lm_head`.
 */
export function llamaLinearModules(c: ModelConfig): LinearModule[] {
  const a = archOf(c);
  const d = c.dModel;
  const q = c.nHeads * c.dHead;
  const kv = a.nKeyValueHeads * c.dHead;
  return [
    { name: 'self_attn.q_proj', layout: 'linear', inDim: d, outDim: q, bias: a.qkvBias, parts: [{ target: 'attn.W_Q', units: unitRange(q) }] },
    { name: 'self_attn.k_proj', layout: 'linear', inDim: d, outDim: kv, bias: a.qkvBias, parts: [{ target: 'attn.W_K', units: unitRange(kv) }] },
    { name: 'self_attn.v_proj', layout: 'linear', inDim: d, outDim: kv, bias: a.qkvBias, parts: [{ target: 'attn.W_V', units: unitRange(kv) }] },
    { name: 'self_attn.o_proj', layout: 'linear', inDim: q, outDim: d, bias: a.attnOutBias, parts: [{ target: 'attn.W_O', units: unitRange(d) }] },
    // TransformerLens's GatedMLP: W_gate is gate_proj, W_in is up_proj.
    { name: 'mlp.gate_proj', layout: 'linear', inDim: d, outDim: c.dMlp, bias: false, parts: [{ target: 'mlp.W_gate', units: unitRange(c.dMlp) }] },
    { name: 'mlp.up_proj', layout: 'linear', inDim: d, outDim: c.dMlp, bias: false, parts: [{ target: 'mlp.W_in', units: unitRange(c.dMlp) }] },
    { name: 'mlp.down_proj', layout: 'linear', inDim: c.dMlp, outDim: d, bias: false, parts: [{ target: 'mlp.W_out', units: unitRange(d) }] },
  ];
}

/**
 * Embedding, RMSNorm weights and unembedding. `norms` maps each Hugging Face norm of a block to its
 * canonical name; `plusOneNorms` (Gemma) stores the factor 1 + w that Gemma's RMSNorm multiplies by.
 */
export function llamaConvertRest(
  src: WeightSource,
  c: ModelConfig,
  put: PutTensor,
  norms: readonly (readonly [string, string, number?])[],
  plusOneNorms: boolean,
): void {
  const d = c.dModel;
  const norm = (data: Float32Array): Float32Array => (plusOneNorms ? plusOne(data) : data);
  put('embed.W_E', [c.dVocab, d], src.take('embed_tokens.weight', [c.dVocab, d], 'the token embedding (vocab_size × hidden_size)'));
  for (let l = 0; l < c.nLayers; l++) {
    for (const [hf, tl, width = d] of norms) {
      put(`blocks.${l}.${tl}.w`, [width], norm(src.take(`layers.${l}.${hf}.weight`, [width], `${hf} of layer ${l}`)));
    }
  }
  put('ln_final.w', [d], norm(src.take('norm.weight', [d], 'the final norm')));
  if (c.unembed === 'learned') put('unembed.W_U', [d, c.dVocab], transpose(src.take('lm_head.weight', [c.dVocab, d], 'lm_head (untied)'), c.dVocab, d));
}

export const LLAMA_IGNORE = /(^|\.)rotary_emb\.inv_freq$/;
