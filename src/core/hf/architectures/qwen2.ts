import { LLAMA_IGNORE, llamaConvertRest, llamaLinearModules } from './llamaFamily';
import { llamaStyleConfig } from './llama';
import type { HfArchitecture } from './types';

/** Qwen2 (Qwen2ForCausalLM): Llama with biases on q, k and v (none on o_proj). */
export const qwen2: HfArchitecture = {
  modelTypes: ['qwen2'],
  prefixes: ['model.'],
  ignore: LLAMA_IGNORE,
  config(hf) {
    hf.refuseIf(hf.bool('use_sliding_window', false), 'use_sliding_window', "Qwen2's max_window_layers sliding attention");
    return llamaStyleConfig(hf, { qkvBias: true, attnOutBias: false, epsDefault: 1e-6 });
  },
  blockPrefix: (l) => `layers.${l}.`,
  linearModules: llamaLinearModules,
  convertRest(src, c, put) {
    llamaConvertRest(src, c, put, [['input_layernorm', 'ln1'], ['post_attention_layernorm', 'ln2']], false);
  },
};
