import { describe, expect, it } from 'vitest';
import { estimateTrainFlops } from '../../src/core/model/flops';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import { presetConfig } from '../../src/core/presets';

describe('estimateTrainFlops', () => {
  // One layer, one-hot residual (identity embed, no LayerNorm / posEmbed): Q/K/V are row gathers.
  const oneHot = resolveConfig({
    nLayers: 1,
    dModel: 8,
    nHeads: 2,
    dHead: 4,
    dVocab: 8,
    nCtx: 4,
    attention: 'linear',
    ov: 'factorized',
    ovRank: 3,
    residual: false,
    embed: 'identity',
    unembed: 'identity',
  });

  it('counts attention and W_O but not gathered projections (readout all)', () => {
    // B = 2, T = 4: QKᵀ 2 heads · 2·(2·4)·4·4 = 512; pattern·V 2 · 2·8·3·4 = 384; W_O 2·8·8·6 = 768.
    expect(estimateTrainFlops(oneHot, 2, 4, 'all')).toEqual({ forward: 1664, total: 3 * 1664 });
  });

  it('computes one query position in the last block with readout last', () => {
    // QKᵀ 2 · 2·2·4·4 = 128; pattern·V 2 · 2·2·3·4 = 96; W_O 2·2·8·6 = 192.
    expect(estimateTrainFlops(oneHot, 2, 4, 'last').forward).toBe(416);
  });

  it('counts the projections once LayerNorm makes the one-hot stream dense', () => {
    const withLn = resolveConfig({ ...oneHot, layerNorm: true });
    // + Q 2·8·8·8 = 1024, K 1024, V 2·8·6·8 = 768.
    expect(estimateTrainFlops(withLn, 2, 4, 'all').forward).toBe(1664 + 1024 + 1024 + 768);
  });

  it('counts a two-layer model with MLP, learned embedding and unembedding', () => {
    const c = resolveConfig({
      nLayers: 2,
      dModel: 4,
      nHeads: 1,
      dHead: 2,
      dVocab: 5,
      nCtx: 3,
      ov: 'factorized',
      ovRank: 2,
      mlp: true,
      dMlp: 6,
      layerNorm: true,
      posEmbed: true,
    });
    // B = 1, T = 3. Layer 0 (3 queries): Q 48, K 48, V 48, QKᵀ 36, pattern·V 36, W_O 48, W_in 144, W_out 144 = 552.
    // Layer 1 (1 query): Q 16, K 48, V 48, QKᵀ 12, pattern·V 12, W_O 16, W_in 48, W_out 48 = 248.
    // Unembed at 1 position: 2·1·5·4 = 40.
    expect(estimateTrainFlops(c, 1, 3, 'last')).toEqual({ forward: 840, total: 2520 });
  });

  it('matches a hand count for the ocr-factorized preset', () => {
    const c = presetConfig('ocr-factorized').model;
    // B = 252, T = 16, d = 128, r = 8, one query: QKᵀ 2·252·16·128 + pattern·V 2·252·8·16 + W_O 2·252·128·8.
    expect(estimateTrainFlops(c, 252, 16, 'last').forward).toBe(1_032_192 + 64_512 + 516_096);
  });
});
