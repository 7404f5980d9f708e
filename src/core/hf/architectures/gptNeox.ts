import type { ModelConfig } from '../../../shared/modelConfig';
import { resolveConfig } from '../../model/resolveConfig';
import { activationOf, rotaryScalingOf, type HfConfigReader } from '../configReader';
import { transpose, HF_DECODER } from './shared';
import { unitRange, type HfArchitecture, type LinearModule } from './types';

/**
 * GPT-NeoX / Pythia (GPTNeoXForCausalLM). query_key_value fuses Q, K, V per head: output row
 * (h·3 + s)·d_head + j is part s (0 q, 1 k, 2 v) of head h. Rotary on the first rotary_pct of each
 * head, parallel attention + MLP by default, exact gelu, untied embed_out without bias.
 */
export const gptNeox: HfArchitecture = {
  modelTypes: ['gpt_neox'],
  prefixes: ['gpt_neox.'],
  ignore: /(^|\.)attention\.(bias|masked_bias|rotary_emb\.inv_freq)$|(^|\.)rotary_emb\.inv_freq$/,

  config(hf: HfConfigReader): ModelConfig {
    const d = hf.int('hidden_size', 6144);
    const H = hf.int('num_attention_heads', 64);
    if (d % H !== 0) hf.fail(`"hidden_size" (${d}) is not a multiple of "num_attention_heads" (${H})`);
    const dHead = d / H;
    const pct = hf.num('rotary_pct', hf.has('partial_rotary_factor') ? hf.num('partial_rotary_factor') : 0.25);
    // As transformers: int(head_size * rotary_pct).
    const rotaryDims = Math.floor(dHead * pct);
    const bias = hf.bool('attention_bias', true);
    return resolveConfig({
      nLayers: hf.int('num_hidden_layers', 44),
      dModel: d,
      nHeads: H,
      dHead,
      dVocab: hf.int('vocab_size', 50432),
      nCtx: hf.int('max_position_embeddings', 2048),
      dMlp: hf.int('intermediate_size', 4 * d),
      ...HF_DECODER,
      posEmbed: false,
      unembed: hf.bool('tie_word_embeddings', false) ? 'tied' : 'learned',
      norm: 'LN',
      normEps: hf.num('layer_norm_eps', 1e-5),
      rotaryDims,
      rotaryBase: hf.num('rotary_emb_base', hf.has('rope_theta') ? hf.num('rope_theta') : 10000),
      rotaryScaling: rotaryScalingOf(hf),
      act: activationOf(hf, 'hidden_act', hf.str('hidden_act', 'gelu')),
      parallelAttnMlp: hf.bool('use_parallel_residual', true),
      qkvBias: bias,
      attnOutBias: bias,
      mlpBias: true,
      unembedBias: false,
    });
  },

  blockPrefix: (l) => `layers.${l}.`,

  linearModules(c): LinearModule[] {
    const d = c.dModel;
    const k = c.dHead;
    const bias = c.qkvBias ?? false;
    const fused = (s: number): Int32Array => Int32Array.from({ length: d }, (_, col) => (Math.floor(col / k) * 3 + s) * k + (col % k));
    return [
      {
        name: 'attention.query_key_value',
        layout: 'linear',
        inDim: d,
        outDim: 3 * d,
        bias,
        parts: [
          { target: 'attn.W_Q', units: fused(0) },
          { target: 'attn.W_K', units: fused(1) },
          { target: 'attn.W_V', units: fused(2) },
        ],
      },
      { name: 'attention.dense', layout: 'linear', inDim: d, outDim: d, bias: c.attnOutBias ?? false, parts: [{ target: 'attn.W_O', units: unitRange(d) }] },
      { name: 'mlp.dense_h_to_4h', layout: 'linear', inDim: d, outDim: c.dMlp, bias: true, parts: [{ target: 'mlp.W_in', units: unitRange(c.dMlp) }] },
      { name: 'mlp.dense_4h_to_h', layout: 'linear', inDim: c.dMlp, outDim: d, bias: true, parts: [{ target: 'mlp.W_out', units: unitRange(d) }] },
    ];
  },

  convertRest(src, c, put) {
    const d = c.dModel;
    put('embed.W_E', [c.dVocab, d], src.take('embed_in.weight', [c.dVocab, d], 'the token embedding (vocab_size × hidden_size)'));
    for (let l = 0; l < c.nLayers; l++) {
      for (const [hf, tl] of [['input_layernorm', 'ln1'], ['post_attention_layernorm', 'ln2']] as const) {
        put(`blocks.${l}.${tl}.w`, [d], src.take(`layers.${l}.${hf}.weight`, [d], `${hf} of layer ${l}`));
        put(`blocks.${l}.${tl}.b`, [d], src.take(`layers.${l}.${hf}.bias`, [d], `${hf} of layer ${l}`));
      }
    }
    put('ln_final.w', [d], src.take('final_layer_norm.weight', [d], 'final_layer_norm'));
    put('ln_final.b', [d], src.take('final_layer_norm.bias', [d], 'final_layer_norm'));
    if (c.unembed === 'learned') put('unembed.W_U', [d, c.dVocab], transpose(src.take('embed_out.weight', [c.dVocab, d], 'embed_out (untied)'), c.dVocab, d));
  },
};
