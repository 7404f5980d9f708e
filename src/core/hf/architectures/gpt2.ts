import type { ModelConfig } from '../../../shared/modelConfig';
import { resolveConfig } from '../../model/resolveConfig';
import { activationOf, type HfConfigReader } from '../configReader';
import { transpose, HF_DECODER } from './shared';
import { unitRange, type HfArchitecture, type LinearModule } from './types';

/**
 * GPT-2 (GPT2LMHeadModel). Conv1D layers store weights [in, out]; c_attn fuses Q, K and V as three
 * consecutive d_model-wide column blocks, head-major within each. LayerNorm, learned positions,
 * gelu_new, biases everywhere except the unembedding, which is tied to wte unless the config unties it.
 */
export const gpt2: HfArchitecture = {
  modelTypes: ['gpt2'],
  prefixes: ['transformer.'],
  // attn.bias / attn.masked_bias are causal-mask buffers older transformers saved with the weights.
  // A tied lm_head.weight, when saved, is a copy of wte.
  ignore: /(^|\.)attn\.(bias|masked_bias)$|^lm_head\.weight$/,

  config(hf: HfConfigReader): ModelConfig {
    const d = hf.int('n_embd', 768);
    const H = hf.int('n_head', 12);
    if (d % H !== 0) hf.fail(`"n_embd" (${d}) is not a multiple of "n_head" (${H})`);
    hf.refuseIf(hf.bool('scale_attn_by_inverse_layer_idx', false), 'scale_attn_by_inverse_layer_idx', 'per-layer attention scales');
    const dMlp = hf.has('n_inner') ? hf.int('n_inner') : 4 * d;
    return resolveConfig({
      nLayers: hf.int('n_layer', 12),
      dModel: d,
      nHeads: H,
      dHead: d / H,
      dVocab: hf.int('vocab_size', 50257),
      nCtx: hf.int('n_positions', hf.has('n_ctx') ? hf.int('n_ctx') : 1024),
      dMlp,
      ...HF_DECODER,
      posEmbed: true,
      unembed: hf.bool('tie_word_embeddings', true) ? 'tied' : 'learned',
      norm: 'LN',
      normEps: hf.num('layer_norm_epsilon', 1e-5),
      act: activationOf(hf, 'activation_function', hf.str('activation_function', 'gelu_new')),
      qkvBias: true,
      attnOutBias: true,
      mlpBias: true,
      unembedBias: false,
      ...(hf.bool('scale_attn_weights', true) ? {} : { attnScale: 1 }),
    });
  },

  blockPrefix: (l) => `h.${l}.`,

  linearModules(c): LinearModule[] {
    const d = c.dModel;
    return [
      {
        name: 'attn.c_attn',
        layout: 'conv1d',
        inDim: d,
        outDim: 3 * d,
        bias: true,
        parts: [
          { target: 'attn.W_Q', units: unitRange(d, 0) },
          { target: 'attn.W_K', units: unitRange(d, d) },
          { target: 'attn.W_V', units: unitRange(d, 2 * d) },
        ],
      },
      { name: 'attn.c_proj', layout: 'conv1d', inDim: d, outDim: d, bias: true, parts: [{ target: 'attn.W_O', units: unitRange(d) }] },
      { name: 'mlp.c_fc', layout: 'conv1d', inDim: d, outDim: c.dMlp, bias: true, parts: [{ target: 'mlp.W_in', units: unitRange(c.dMlp) }] },
      { name: 'mlp.c_proj', layout: 'conv1d', inDim: c.dMlp, outDim: d, bias: true, parts: [{ target: 'mlp.W_out', units: unitRange(d) }] },
    ];
  },

  convertRest(src, c, put) {
    const d = c.dModel;
    put('embed.W_E', [c.dVocab, d], src.take('wte.weight', [c.dVocab, d], 'the token embedding (vocab_size × n_embd)'));
    put('pos_embed.W_pos', [c.nCtx, d], src.take('wpe.weight', [c.nCtx, d], 'the position embedding (n_positions × n_embd)'));
    for (let l = 0; l < c.nLayers; l++) {
      for (const [hf, tl] of [['ln_1', 'ln1'], ['ln_2', 'ln2']] as const) {
        put(`blocks.${l}.${tl}.w`, [d], src.take(`h.${l}.${hf}.weight`, [d], `${hf} of layer ${l}`));
        put(`blocks.${l}.${tl}.b`, [d], src.take(`h.${l}.${hf}.bias`, [d], `${hf} of layer ${l}`));
      }
    }
    put('ln_final.w', [d], src.take('ln_f.weight', [d], 'ln_f'));
    put('ln_final.b', [d], src.take('ln_f.bias', [d], 'ln_f'));
    if (c.unembed === 'learned') put('unembed.W_U', [d, c.dVocab], transpose(src.take('lm_head.weight', [c.dVocab, d], 'lm_head (untied)'), c.dVocab, d));
  },
};
