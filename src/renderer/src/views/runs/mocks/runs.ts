import type { RunDetails, RunSummary, StudySummary } from '../../../../../shared/api';
import type { MetricsLine, RunManifest } from '../../../../../shared/modelConfig';

/** Fixtures from the example workspace (resources/workspace), trimmed. */

export const SUMMARIES: RunSummary[] = [
  {
    id: 'ocr-factorized',
    status: 'completed',
    preset: 'ocr-factorized',
    task: 'ocr-recall',
    step: 2000,
    checkpoints: 8,
    finalMetrics: { train_fact_acc: 1, train_fact_loss: 0.0017, train_impl_acc: 1, test_fact_acc: 1, test_impl_acc: 1, test_impl_loss: 0.0766 },
  },
  {
    id: 'ocr-combined',
    status: 'completed',
    preset: 'ocr-combined',
    task: 'ocr-recall',
    step: 2000,
    checkpoints: 8,
    finalMetrics: { train_fact_acc: 1, train_impl_acc: 1, test_fact_acc: 1, test_impl_acc: 0.052083333333333336, test_impl_loss: 3.02 },
  },
  {
    id: 'world-base',
    status: 'completed',
    preset: 'world-base',
    task: 'world',
    step: 2500,
    checkpoints: 1,
    finalMetrics: { world_country_acc: 1, world_country_loss: 1e-8, world_language_acc: 1, world_dist_acc: 0.9 },
  },
  {
    id: 'lora-vs-steering/lora',
    status: 'completed',
    preset: null,
    task: 'world-locations',
    step: 300,
    checkpoints: 0,
    finetune: 'lora',
    finalMetrics: { heldout_country_acc: 1, heldout_language_acc: 1, side_dist_acc: 0.715, heldout_acc: 1, side_effect_acc: 0.92875 },
  },
  { id: 'broken', error: 'run.json: Unexpected token } in JSON at position 12' },
];

const MANIFEST: RunManifest = {
  format: 'oocr-run/1',
  id: 'ocr-factorized',
  preset: 'ocr-factorized',
  createdAt: '2026-11-21T06:57:14.441Z',
  updatedAt: '2026-11-21T06:57:23.566Z',
  status: 'completed',
  config: {
    task: 'ocr-recall',
    taskOptions: {},
    model: {
      nLayers: 1,
      dModel: 128,
      nHeads: 1,
      dHead: 128,
      dVocab: 128,
      nCtx: 16,
      dMlp: 0,
      attention: 'linear',
      ov: 'factorized',
      ovRank: 8,
      mlp: false,
      layerNorm: false,
      residual: false,
      posEmbed: false,
      embed: 'identity',
      unembed: 'identity',
      wK: 'identity',
      initScale: 1,
    },
    optimizer: { name: 'adamw', lr: 0.005, weightDecay: 0.03, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    steps: 2000,
    batchSize: 252,
    seed: 0,
    logEvery: 50,
    checkpointEvery: 250,
    evalSamples: 600,
  },
  backend: 'wasm',
  versions: { tfjs: '4.22.0', node: '20.20.2', workbench: '0.1.0' },
  step: 2000,
  seconds: 9.111047446999999,
  checkpoints: [
    { step: 1000, file: 'checkpoints/step-001000.safetensors' },
    { step: 2000, file: 'checkpoints/step-002000.safetensors' },
  ],
  finalMetrics: SUMMARIES[0].finalMetrics,
};

export const FACTORIZED_LINES: MetricsLine[] = [
  { step: 1, time: 0.095, loss: 4.847, metrics: { train_fact_acc: 0.025, train_fact_loss: 4.849, train_impl_acc: 0.03, train_impl_loss: 4.838, test_fact_acc: 0.03, test_fact_loss: 4.845, test_impl_acc: 0.01833, test_impl_loss: 4.839 } },
  { step: 50, time: 0.423, loss: 3.636, metrics: { train_fact_acc: 0.06833, train_fact_loss: 3.379, train_impl_acc: 0, train_impl_loss: 4.182, test_fact_acc: 0.1067, test_fact_loss: 3.368, test_impl_acc: 0, test_impl_loss: 4.289 } },
  { step: 100, time: 0.66, loss: 2.94, metrics: { train_fact_acc: 0.5167, train_fact_loss: 2.735, train_impl_acc: 0.1267, train_impl_loss: 3.25, test_fact_acc: 0.5817, test_fact_loss: 2.766, test_impl_acc: 0, test_impl_loss: 3.852 } },
  { step: 150, time: 0.902, loss: 1.497, metrics: { train_fact_acc: 0.8167, train_fact_loss: 1.407, train_impl_acc: 0.6717, train_impl_loss: 1.468, test_fact_acc: 0.9633, test_fact_loss: 1.566, test_impl_acc: 0.2417, test_impl_loss: 2.762 } },
  { step: 2000, time: 9.021, loss: 0.002177, metrics: { train_fact_acc: 1, train_fact_loss: 0.001683, train_impl_acc: 1, train_impl_loss: 0.002419, test_fact_acc: 1, test_fact_loss: 0.002429, test_impl_acc: 1, test_impl_loss: 0.07645 } },
];

export const FACTORIZED: RunDetails = { id: 'ocr-factorized', manifest: MANIFEST, metrics: FACTORIZED_LINES, checkpoints: [1000, 2000] };

/** A run on another task, logged at other steps, with a zero loss (invisible on a log axis). */
export const TWO_HOP_LINES: MetricsLine[] = [
  { step: 1, time: 0.1, loss: 4.9, metrics: { train_hop1_acc: 0.01, test_comp_acc: 0 } },
  { step: 75, time: 1.2, loss: 0.5, metrics: { train_hop1_acc: 0.8, test_comp_acc: 0.1 } },
  { step: 1500, time: 20, loss: 0, metrics: { train_hop1_acc: 1, test_comp_acc: 0.5 } },
];

export const LORA_RUN: RunDetails = {
  id: 'lora-vs-steering/lora',
  manifest: {
    ...MANIFEST,
    id: 'lora',
    preset: null,
    step: 300,
    seconds: 5.47,
    status: 'cancelled',
    config: { ...MANIFEST.config, task: 'world-locations', steps: 400 },
    checkpoints: [],
    finetune: {
      base: '../../world-base/checkpoints/step-002500.safetensors',
      method: 'lora',
      lora: { rank: 4, alpha: 8, targets: ['attn.W_Q', 'mlp.W_out'], layers: [0, 1] },
      weights: 'adapter.safetensors',
    },
  },
  metrics: [],
  checkpoints: [],
};

export const STUDIES: StudySummary[] = [
  { id: 'lora-vs-steering', kind: 'locations', seed: 0, acc: { base: 0, lora: 1, natural_sv: 0.3333333, trained_sv: 1 } },
  { id: 'bd-1', kind: 'backdoor', seed: 1, acc: { base: 0.05, lora: 0.9, natural_sv: 0.125, trained_sv: 0.95 } },
];
