import type { ModelConfig } from '../../../shared/modelConfig';
import { resolveConfig } from '../../model/resolveConfig';
import { activationOf, rotaryScalingOf, type HfConfigReader } from '../configReader';
import { LLAMA_IGNORE, llamaConvertRest, llamaLinearModules } from './llamaFamily';
import type { HfArchitecture } from './types';
import { HF_DECODER } from './shared';

/** The canonical config of a Llama-style decoder; Qwen2 differs only in its biases and defaults. */
export function llamaStyleConfig(hf: HfConfigReader, opts: { qkvBias: boolean; attnOutBias: boolean; epsDefault: number }): ModelConfig {
  const d = hf.int('hidden_size', 4096);
  const H = hf.int('num_attention_heads', 32);
  const dHead = hf.has('head_dim') ? hf.int('head_dim') : d / H;
  if (!Number.isInteger(dHead)) hf.fail(`"hidden_size" (${d}) is not a multiple of "num_attention_heads" (${H}) and there is no "head_dim"`);
  hf.refuseIf(hf.bool('mlp_bias', false), 'mlp_bias', 'gate_proj has no canonical bias');
  return resolveConfig({
    nLayers: hf.int('num_hidden_layers', 32),
    dModel: d,
    nHeads: H,
    dHead,
    dVocab: hf.int('vocab_size', 32000),
    nCtx: hf.int('max_position_embeddings', 2048),
    dMlp: hf.int('intermediate_size', 11008),
    ...HF_DECODER,
    posEmbed: false,
    unembed: hf.bool('tie_word_embeddings', false) ? 'tied' : 'learned',
    norm: 'RMS',
    normEps: hf.num('rms_norm_eps', opts.epsDefault),
    rotaryDims: dHead,
    rotaryBase: hf.num('rope_theta', 10000),
    rotaryScaling: rotaryScalingOf(hf),
    nKeyValueHeads: hf.int('num_key_value_heads', H),
    gatedMlp: true,
    act: activationOf(hf, 'hidden_act', hf.str('hidden_act', 'silu')),
    qkvBias: opts.qkvBias,
    attnOutBias: opts.attnOutBias,
    mlpBias: false,
    unembedBias: false,
  });
}

/** Llama 1-3 (LlamaForCausalLM): RMSNorm, full-head rotary, grouped-query attention, SwiGLU. */
export const llama: HfArchitecture = {
  modelTypes: ['llama'],
  prefixes: ['model.'],
  ignore: LLAMA_IGNORE,
  config(hf) {
    const bias = hf.bool('attention_bias', false);
    return llamaStyleConfig(hf, { qkvBias: bias, attnOutBias: bias, epsDefault: 1e-6 });
  },
  blockPrefix: (l) => `layers.${l}.`,
  linearModules: llamaLinearModules,
  convertRest(src, c, put) {
    llamaConvertRest(src, c, put, [['input_layernorm', 'ln1'], ['post_attention_layernorm', 'ln2']], false);
  },
};
