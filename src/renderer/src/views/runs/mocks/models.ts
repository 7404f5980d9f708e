import type { ModelSummary } from '../../../../../shared/api';

/** listModels answers: a workspace GPT-2 with an adapter beside it, a registered Llama, a folder that cannot be read. */
export const MODELS: ModelSummary[] = [
  {
    id: 'gpt2',
    path: '/ws/gpt2',
    source: 'workspace',
    architecture: 'gpt2',
    nLayers: 12,
    dModel: 768,
    nHeads: 12,
    dVocab: 50257,
    nCtx: 1024,
    nParams: 124_439_808,
    dtype: 'F32',
    sizeBytes: 548_105_171,
    tokenizer: true,
    adapters: [{ id: 'gpt2-lora', path: '/ws/gpt2-lora', r: 8, alpha: 16, targets: ['c_attn', 'c_proj'], layers: [4, 5, 6] }],
  },
  {
    id: 'models/Llama-3.2-1B',
    path: '/data/hub/Llama-3.2-1B',
    source: 'registered',
    architecture: 'llama',
    nLayers: 16,
    dModel: 2048,
    nHeads: 32,
    dVocab: 128256,
    nCtx: 131072,
    nParams: 1_235_814_400,
    dtype: 'BF16',
    sizeBytes: 2_471_645_608,
    tokenizer: true,
    adapters: [{ id: 'adapters/old-lora', path: '/data/old-lora', error: 'lora_A is [8,4096] but q_proj needs [8,2048]' }],
  },
  { id: 'mamba', path: '/ws/mamba', source: 'workspace', adapters: [], error: '/ws/mamba/config.json: model_type "mamba" is not supported; supported: gpt2, gpt_neox, llama, qwen2, gemma, gemma2, gemma3, gemma3_text' },
];
