import type { TrainConfig } from '../shared/modelConfig';
import { resolveConfig } from './model/resolveConfig';

const OCR_BASE = {
  nLayers: 1,
  dModel: 128,
  nHeads: 1,
  dHead: 128,
  dVocab: 128,
  nCtx: 16,
  attention: 'linear',
  mlp: false,
  layerNorm: false,
  residual: false,
  posEmbed: false,
  embed: 'identity',
  unembed: 'identity',
  wK: 'identity',
} as const;

const OCR_TRAIN = {
  task: 'ocr-recall',
  taskOptions: {},
  optimizer: { name: 'adamw', lr: 5e-3, weightDecay: 0.03, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  steps: 2000,
  batchSize: 252,
  seed: 0,
  logEvery: 50,
  checkpointEvery: 250,
  evalSamples: 600,
} as const;

/** Named starting points; every field can be overridden (CLI flags, the Train form). */
export const PRESETS: Record<string, { description: string; config: TrainConfig }> = {
  'ocr-factorized': {
    description: 'arXiv 2506.10887: one-layer linear attention, W_V: 128→r and W_O: r→128 trained (r = 8)',
    config: { ...OCR_TRAIN, model: resolveConfig({ ...OCR_BASE, ov: 'factorized', ovRank: 8 }) },
  },
  'ocr-combined': {
    description: 'arXiv 2506.10887 control: W_V fixed to the identity, one trained 128×128 W_O (= W_OV)',
    config: { ...OCR_TRAIN, model: resolveConfig({ ...OCR_BASE, ov: 'combined' }) },
  },
};

PRESETS['world-base'] = {
  description: 'arXiv 2507.08218 toy: 2-layer softmax transformer (d 64, MLP, LayerNorm) pretrained on the synthetic world',
  config: {
    task: 'world',
    taskOptions: {},
    model: resolveConfig({
      nLayers: 2,
      dModel: 64,
      nHeads: 4,
      dHead: 16,
      dVocab: 62,
      nCtx: 6,
      attention: 'softmax',
      mlp: true,
      dMlp: 256,
      layerNorm: true,
      residual: true,
      posEmbed: true,
      embed: 'learned',
      unembed: 'learned',
      wK: 'learned',
    }),
    optimizer: { name: 'adamw', lr: 3e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.98, eps: 1e-8 },
    steps: 2500,
    batchSize: 128,
    seed: 0,
    logEvery: 100,
    checkpointEvery: 1000,
    evalSamples: 300,
  },
};

/** Small 2-layer softmax transformer shared by the two-hop and reversal presets (DESIGN.md §3.3/3.4). */
const SMALL_SOFTMAX = {
  nLayers: 2,
  dModel: 64,
  nHeads: 4,
  dHead: 16,
  attention: 'softmax',
  mlp: true,
  dMlp: 256,
  layerNorm: true,
  residual: true,
  posEmbed: true,
  embed: 'learned',
  unembed: 'learned',
  wK: 'learned',
} as const;

const SMALL_TRAIN = {
  optimizer: { name: 'adamw', lr: 3e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.98, eps: 1e-8 },
  steps: 1500,
  batchSize: 128,
  seed: 0,
  logEvery: 100,
  checkpointEvery: 1000,
  evalSamples: 300,
} as const;

// Task sizes with default options: two-hop 129 tokens, reversal 128 tokens, both sequences of 8.
PRESETS['two-hop'] = {
  description: 'Two-hop composition (arXiv 2411.16353): 2-layer softmax transformer (d 64, MLP, LayerNorm); test_comp_acc is the held-out composition',
  config: { task: 'two-hop', taskOptions: {}, model: resolveConfig({ ...SMALL_SOFTMAX, dVocab: 129, nCtx: 8 }), ...SMALL_TRAIN },
};

PRESETS['two-hop-factorized'] = {
  description: 'Two-hop with the ocr-factorized model (one-layer linear attention, one-hot embeddings, OV rank 8)',
  config: {
    ...OCR_TRAIN,
    task: 'two-hop',
    taskOptions: {},
    model: resolveConfig({ ...OCR_BASE, dModel: 129, dHead: 129, dVocab: 129, nCtx: 8, ov: 'factorized', ovRank: 8 }),
  },
};

PRESETS['reversal'] = {
  description: 'Reversal (arXiv 2309.12288): 2-layer softmax transformer (d 64, MLP, LayerNorm), untied embeddings; test_rev_acc is the held-out reversal',
  config: { task: 'reversal', taskOptions: {}, model: resolveConfig({ ...SMALL_SOFTMAX, dVocab: 128, nCtx: 8 }), ...SMALL_TRAIN },
};

PRESETS['reversal-tied'] = {
  description: 'Reversal with the unembedding tied to the embedding, so forward facts also train the held-out parents’ input vectors',
  config: { task: 'reversal', taskOptions: {}, model: resolveConfig({ ...SMALL_SOFTMAX, unembed: 'tied', dVocab: 128, nCtx: 8 }), ...SMALL_TRAIN },
};

export function presetConfig(name: string): TrainConfig {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset '${name}': expected one of ${Object.keys(PRESETS).join(', ')}`);
  return structuredClone(p.config) as TrainConfig;
}
