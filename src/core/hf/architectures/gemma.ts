import type { ModelConfig } from '../../../shared/modelConfig';
import { archOf, resolveConfig } from '../../model/resolveConfig';
import { activationOf, HfConfigReader, rotaryScalingOf } from '../configReader';
import { LLAMA_IGNORE, llamaConvertRest, llamaLinearModules } from './llamaFamily';
import type { HfArchitecture } from './types';
import { HF_DECODER } from './shared';

type Generation = 1 | 2 | 3;

const GENERATION: Record<string, Generation> = { gemma: 1, gemma2: 2, gemma3_text: 3, gemma3: 3 };

/**
 * The transformers defaults where they differ between generations (a field missing from config.json
 * takes its class's default; soft-capping is on by default in Gemma 2 and off in Gemma 3).
 */
const DEFAULTS: Record<Generation, { attnSoftcap: number | null; finalSoftcap: number | null; ropeTheta: number; kvHeads: number | null }> = {
  1: { attnSoftcap: null, finalSoftcap: null, ropeTheta: 10000, kvHeads: null },
  2: { attnSoftcap: 50, finalSoftcap: 30, ropeTheta: 10000, kvHeads: 4 },
  3: { attnSoftcap: null, finalSoftcap: null, ropeTheta: 1_000_000, kvHeads: 4 },
};

/** A field that is a number, null (feature off) or absent (the class default). */
function capOf(hf: HfConfigReader, key: string, fallback: number | null): number {
  if (!(key in hf.json)) return fallback ?? 0;
  return hf.optNum(key) ?? 0;
}

/** Which layers use the sliding window: `layer_types`, else Gemma 2's every-other or Gemma 3's pattern. */
function slidingLayers(hf: HfConfigReader, gen: Generation, nLayers: number): number[] {
  const types = hf.json.layer_types;
  if (Array.isArray(types)) {
    if (types.length !== nLayers) hf.fail(`"layer_types" lists ${types.length} layers but "num_hidden_layers" is ${nLayers}`);
    return types.flatMap((t, l) => (t === 'sliding_attention' ? [l] : []));
  }
  const pattern = gen === 2 ? 2 : hf.int('sliding_window_pattern', 6);
  return Array.from({ length: nLayers }, (_, l) => l).filter((l) => (l + 1) % pattern !== 0);
}

/**
 * Gemma 1, 2 and 3 (text). RMSNorm multiplies by 1 + w (stored here as the factor itself, as
 * TransformerLens does), embeddings are scaled by sqrt(d_model) while the tied unembedding reads the
 * raw table, GeGLU MLP. Gemma 2 adds norms after attention and MLP, query_pre_attn_scalar, soft-capping
 * and sliding-window layers; Gemma 3 adds per-head q/k norms and a separate rotary base for local layers.
 * A multimodal Gemma 3 folder (model_type gemma3) is read through its text_config, its vision tower ignored.
 */
export const gemma: HfArchitecture = {
  modelTypes: ['gemma', 'gemma2', 'gemma3_text', 'gemma3'],
  prefixes: ['model.language_model.', 'language_model.model.', 'language_model.', 'model.'],
  ignore: new RegExp(`${LLAMA_IGNORE.source}|^(vision_tower|multi_modal_projector)\\.`),

  config(outer: HfConfigReader, modelType: string): ModelConfig {
    const gen = GENERATION[modelType];
    let hf = outer;
    if (modelType === 'gemma3') {
      const text = outer.obj('text_config');
      if (!text) outer.fail('model_type "gemma3" needs a "text_config"');
      hf = new HfConfigReader(`${outer.file} (text_config)`, text);
    }
    const d = hf.int('hidden_size', gen === 1 ? 3072 : 2304);
    const H = hf.int('num_attention_heads', gen === 1 ? 16 : 8);
    const dHead = hf.int('head_dim', 256);
    const nLayers = hf.int('num_hidden_layers', gen === 1 ? 28 : 26);
    const defaults = DEFAULTS[gen];
    hf.refuseIf(hf.bool('attention_bias', false), 'attention_bias', 'Gemma checkpoints have no attention biases');
    const act = gen === 1 ? hf.str('hidden_activation', 'gelu_pytorch_tanh') : hf.str('hidden_activation', hf.has('hidden_act') ? hf.str('hidden_act') : 'gelu_pytorch_tanh');
    const window = gen === 1 ? 0 : hf.has('sliding_window') ? hf.int('sliding_window') : 4096;
    return resolveConfig({
      nLayers,
      dModel: d,
      nHeads: H,
      dHead,
      dVocab: hf.int('vocab_size', gen === 3 ? 262_208 : 256_000),
      nCtx: hf.int('max_position_embeddings', gen === 3 ? 131_072 : 8192),
      dMlp: hf.int('intermediate_size', gen === 1 ? 24576 : 9216),
      ...HF_DECODER,
      posEmbed: false,
      unembed: hf.bool('tie_word_embeddings', true) ? 'tied' : 'learned',
      norm: 'RMS',
      normEps: hf.num('rms_norm_eps', 1e-6),
      rotaryDims: dHead,
      rotaryBase: hf.num('rope_theta', defaults.ropeTheta),
      ...(gen === 3 ? { rotaryBaseLocal: hf.num('rope_local_base_freq', 10000), rotaryScaling: rotaryScalingOf(hf) } : {}),
      nKeyValueHeads: hf.int('num_key_value_heads', defaults.kvHeads ?? H),
      gatedMlp: true,
      act: activationOf(hf, 'hidden_activation', act),
      qkvBias: false,
      attnOutBias: false,
      mlpBias: false,
      unembedBias: false,
      qkNorm: gen === 3,
      postNorms: gen >= 2,
      embedScale: Math.sqrt(d),
      attnScale: gen === 1 ? Math.sqrt(dHead) : Math.sqrt(hf.num('query_pre_attn_scalar', 256)),
      attnSoftcap: capOf(hf, 'attn_logit_softcapping', defaults.attnSoftcap),
      finalSoftcap: capOf(hf, 'final_logit_softcapping', defaults.finalSoftcap),
      ...(window > 0 ? { slidingWindow: window, slidingLayers: slidingLayers(hf, gen, nLayers) } : {}),
    });
  },

  blockPrefix: (l) => `layers.${l}.`,
  linearModules: llamaLinearModules,

  convertRest(src, c, put) {
    const a = archOf(c);
    const norms: [string, string, number?][] = a.postNorms
      ? [['input_layernorm', 'ln1'], ['post_attention_layernorm', 'ln1_post'], ['pre_feedforward_layernorm', 'ln2'], ['post_feedforward_layernorm', 'ln2_post']]
      : [['input_layernorm', 'ln1'], ['post_attention_layernorm', 'ln2']];
    if (a.qkNorm) norms.push(['self_attn.q_norm', 'attn.q_norm', c.dHead], ['self_attn.k_norm', 'attn.k_norm', c.dHead]);
    llamaConvertRest(src, c, put, norms, true);
  },
};
