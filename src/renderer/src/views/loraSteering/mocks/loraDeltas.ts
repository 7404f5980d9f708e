import type { LoraDeltasAnalysis } from '../../../../../shared/api';

/** A lora-deltas answer for two short texts on a GPT-2 and its adapter (numbers rounded). */
export const GPT2_DELTAS: LoraDeltasAnalysis = {
  kind: 'lora-deltas',
  id: 'gpt2',
  adapter: 'gpt2-lora',
  step: 0,
  hook: 'blocks.1.hook_resid_post',
  layer: 1,
  adapterLayers: [0, 1],
  texts: ['the cat', 'a cat'],
  tokens: [
    { text: 0, position: 0, token: 't', norm: 1.5 },
    { text: 0, position: 1, token: 'he', norm: 1.25 },
    { text: 0, position: 2, token: '·cat', norm: 2 },
    { text: 1, position: 0, token: 'a', norm: 1 },
    { text: 1, position: 1, token: '·cat', norm: 2.25 },
  ],
  summary: { nTokens: 5, meanAbsCos: 0.62, pc1VarRatio: 0.71, pc1VarRatioCentred: 0.44, meanNorm: 1.6, naturalVector: [0.8, -1.2, 0.6, 0.3], cosPc1Mean: 0.97 },
  naturalVectorNorm: 1.6,
  cos: {
    index: [0, 2, 3, 4],
    values: [
      [1, 0.5, 0.25, 0.75],
      [0.5, 1, 0.5, 0.9],
      [0.25, 0.5, 1, 0.6],
      [0.75, 0.9, 0.6, 1],
    ],
  },
};
