import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHfModelConfig } from '../../src/core/hf/loadHfModel';
import { paramSpecs } from '../../src/core/model/params';
import { archOf } from '../../src/core/model/resolveConfig';

/**
 * The config.json files of public checkpoints (GPT-2 small, Pythia-160M, Llama-3.2-1B, Qwen2-0.5B,
 * Gemma-2B, Gemma-2-2B, Gemma-3-1B; fields that do not change the network left out). Their canonical
 * configs must imply exactly the parameter counts transformers reports for them: a check of every
 * shape, bias and norm the mapping decides, without downloading a weight.
 */
const CONFIGS: Record<string, Record<string, unknown>> = {
  gpt2: {"activation_function":"gelu_new","n_ctx":1024,"n_embd":768,"n_head":12,"n_layer":12,"n_positions":1024,"layer_norm_epsilon":1e-05,"vocab_size":50257,"model_type":"gpt2"},
  pythia160m: {"hidden_size":768,"num_attention_heads":12,"num_hidden_layers":12,"intermediate_size":3072,"max_position_embeddings":2048,"rotary_pct":0.25,"rotary_emb_base":10000,"use_parallel_residual":true,"vocab_size":50304,"hidden_act":"gelu","layer_norm_eps":1e-05,"tie_word_embeddings":false,"model_type":"gpt_neox"},
  llama32_1b: {"hidden_size":2048,"intermediate_size":8192,"num_attention_heads":32,"num_hidden_layers":16,"num_key_value_heads":8,"head_dim":64,"rms_norm_eps":1e-05,"rope_theta":500000.0,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},"tie_word_embeddings":true,"vocab_size":128256,"max_position_embeddings":131072,"hidden_act":"silu","model_type":"llama","mlp_bias":false,"attention_bias":false},
  qwen2_05b: {"hidden_size":896,"intermediate_size":4864,"num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,"rms_norm_eps":1e-06,"rope_theta":1000000.0,"sliding_window":32768,"use_sliding_window":false,"max_window_layers":24,"tie_word_embeddings":true,"vocab_size":151936,"max_position_embeddings":32768,"model_type":"qwen2","hidden_act":"silu"},
  gemma2b: {"hidden_size":2048,"intermediate_size":16384,"num_attention_heads":8,"num_hidden_layers":18,"num_key_value_heads":1,"head_dim":256,"rms_norm_eps":1e-06,"rope_theta":10000.0,"vocab_size":256000,"max_position_embeddings":8192,"hidden_act":"gelu","model_type":"gemma"},
  gemma2_2b: {"hidden_size":2304,"intermediate_size":9216,"num_attention_heads":8,"num_hidden_layers":26,"num_key_value_heads":4,"head_dim":256,"query_pre_attn_scalar":256,"sliding_window":4096,"attn_logit_softcapping":50.0,"final_logit_softcapping":30.0,"hidden_activation":"gelu_pytorch_tanh","vocab_size":256000,"model_type":"gemma2"},
  gemma3_1b: {"hidden_size":1152,"intermediate_size":6912,"num_attention_heads":4,"num_hidden_layers":26,"num_key_value_heads":1,"head_dim":256,"query_pre_attn_scalar":256,"sliding_window":512,"sliding_window_pattern":6,"rope_theta":1000000,"rope_local_base_freq":10000,"rope_scaling":null,"vocab_size":262144,"max_position_embeddings":32768,"model_type":"gemma3_text","final_logit_softcapping":null,"attn_logit_softcapping":null},
};

const PARAMETERS: Record<string, number> = {
  gpt2: 124_439_808,
  pythia160m: 162_322_944,
  llama32_1b: 1_235_814_400,
  qwen2_05b: 494_032_768,
  gemma2b: 2_506_172_416,
  gemma2_2b: 2_614_341_888,
  gemma3_1b: 999_885_952,
};

function configOf(json: Record<string, unknown>): ReturnType<typeof readHfModelConfig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-hfcfg-'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(json));
  try {
    return readHfModelConfig(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('config.json of public checkpoints → canonical config', () => {
  it.each(Object.keys(CONFIGS))('%s implies the parameter count transformers reports', (name) => {
    const { config } = configOf(CONFIGS[name]);
    const count = paramSpecs(config).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(count).toBe(PARAMETERS[name]);
  });

  it('maps the architecture switches', () => {
    const pythia = archOf(configOf(CONFIGS.pythia160m).config);
    expect(pythia).toMatchObject({ rotaryDims: 16, parallelAttnMlp: true, act: 'gelu', norm: 'LN', qkvBias: true });
    const llama = archOf(configOf(CONFIGS.llama32_1b).config);
    expect(llama).toMatchObject({ nKeyValueHeads: 8, rotaryDims: 64, rotaryBase: 500000, gatedMlp: true, act: 'silu', norm: 'RMS', normEps: 1e-5 });
    expect(llama.rotaryScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 });
    const gemma2 = configOf(CONFIGS.gemma2_2b).config;
    const g2 = archOf(gemma2);
    expect(g2).toMatchObject({ attnSoftcap: 50, finalSoftcap: 30, slidingWindow: 4096, postNorms: true, attnScale: 16, embedScale: Math.sqrt(2304) });
    expect(g2.slidingLayers).toEqual(Array.from({ length: 13 }, (_, i) => 2 * i));
    const g3 = archOf(configOf(CONFIGS.gemma3_1b).config);
    expect(g3).toMatchObject({ qkNorm: true, rotaryBase: 1e6, rotaryBaseLocal: 10000, attnSoftcap: 0, finalSoftcap: 0, slidingWindow: 512 });
    expect(g3.slidingLayers).not.toContain(5);
    expect(g3.slidingLayers).toHaveLength(26 - 4);
    // Gemma 1 has neither soft-capping nor sliding windows, and scales by head_dim.
    expect(archOf(configOf(CONFIGS.gemma2b).config)).toMatchObject({ attnSoftcap: 0, slidingWindow: 0, attnScale: 16, postNorms: false });
  });

  it('refuses what the forward pass would get wrong, naming the field', () => {
    expect(() => configOf({ ...CONFIGS.llama32_1b, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/config\.json: "rope_scaling" of type "yarn" is not supported/);
    expect(() => configOf({ ...CONFIGS.qwen2_05b, use_sliding_window: true })).toThrow(/"use_sliding_window" = true is not supported/);
    expect(() => configOf({ ...CONFIGS.llama32_1b, mlp_bias: true })).toThrow(/"mlp_bias" = true is not supported/);
    expect(() => configOf({ ...CONFIGS.gpt2, n_head: 7 })).toThrow(/"n_embd" \(768\) is not a multiple of "n_head" \(7\)/);
    expect(() => configOf({ ...CONFIGS.llama32_1b, num_key_value_heads: 5 })).toThrow(/config\.json: invalid model config: nHeads \(32\) must be a multiple of nKeyValueHeads \(5\)/);
    expect(() => configOf({ ...CONFIGS.gpt2, activation_function: 'mish' })).toThrow(/"activation_function" = "mish" is not a supported activation/);
    expect(() => configOf({ model_type: 'gemma3' })).toThrow(/model_type "gemma3" needs a "text_config"/);
  });
});
