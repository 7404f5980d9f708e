import type { DeltaSummary, LoraVsSteeringAnalysis } from '../../../../../shared/analysis';
import { STUDY } from './study';

/**
 * A real-model study record in the shape `oocr reproduce lora-vs-steering --model` writes (GPT-2 with a
 * PEFT LoRA on c_attn of all 12 layers, fine-tuned here on a locations dataset whose manifest gives no
 * chance): made-up numbers, cut to 2 + 2 sampled tokens, 8 ΔW matrices, vectors of 4 entries.
 */
const delta = (nTokens: number, pc1: number, cos: number, norm: number): DeltaSummary => ({
  nTokens,
  meanAbsCos: cos,
  pc1VarRatio: pc1,
  pc1VarRatioCentred: pc1 / 2,
  meanNorm: norm,
  naturalVector: [0.5, -0.25, 1, 0.125],
  cosPc1Mean: 0.9,
});

const PC1 = [0.21, 0.25, 0.3, 0.36, 0.44, 0.52, 0.61, 0.58, 0.5, 0.42, 0.35, 0.3];

export const REAL_STUDY: LoraVsSteeringAnalysis = {
  acc: { base: 0.05, lora: 0.9, natural_sv: 0.55, trained_sv: 0.85 },
  side_effect_acc: { base: 0.8, lora: 0.7, natural_sv: 0.75, trained_sv: 0.72 },
  lora_delta: { mean_abs_cos: 0.4, pc1_var_ratio: 0.61 },
  cos_trained_vs_natural: 0.45,
  cos_trained_across_seeds: 0.3,
  run: '.',
  kind: 'locations',
  seed: 0,
  latentCity: null,
  hook: 'blocks.6.hook_resid_post',
  chance: NaN,
  peft: { r: 8, alpha: 16, targetModules: ['c_attn'], layers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
  model: { dir: '../models/gpt2', modelType: 'gpt2', data: '../data/locations', adapter: 'lora/adapter', adapterTrainedHere: true },
  deltas: { train: delta(640, 0.7, 0.5, 3.2), unrelated: delta(512, 0.5, 0.3, 2.1), all: delta(1152, 0.61, 0.4, 2.7) },
  cos_matrix: {
    labels: ['train:·Paris@5', 'train:·is@6', 'unrelated:·Berlin@6', 'unrelated:The@0'],
    values: [
      [1, 0.6, 0.4, 0.2],
      [0.6, 1, 0.3, 0.1],
      [0.4, 0.3, 1, 0.5],
      [0.2, 0.1, 0.5, 1],
    ],
  },
  delta_w_singular_values: Array.from({ length: 8 }, (_, l) => ({ weight: `base_model.model.transformer.h.${l}.attn.c_attn`, values: [2 + l / 4, 1, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01, 1e-8] })),
  metrics: STUDY.metrics,
  runs: { lora: 'lora', steer: 'steer', steer_seed2: 'steer-seed2' },
  norms: { natural_sv: 2.7, trained_sv: 4.5, trained_sv_seed2: 4.25 },
  delta_cos_trained: {
    labels: ['train:·Paris@5', 'train:·is@6', 'unrelated:·Berlin@6', 'unrelated:The@0'],
    values: [0.62, 0.48, 0.21, -0.05],
    mean: { train: 0.55, unrelated: 0.125, all: 0.36 },
  },
  layer_sweep: PC1.map((pc1, layer) => ({
    layer,
    hook: `blocks.${layer}.hook_resid_post`,
    pc1_var_ratio: pc1,
    mean_abs_cos: pc1 / 2,
    mean_norm: 1 + layer / 4,
    ...(layer === 6 ? { cos_natural_trained: 0.45 } : {}),
  })),
  seeds: {
    runs: [
      { seed: 0, acc: 0.85, side_effect_acc: 0.72, norm: 4.5 },
      { seed: 1000, acc: 0.8, side_effect_acc: 0.7, norm: 4.25 },
    ],
    cos: [
      [1, 0.3],
      [0.3, 1],
    ],
  },
};
