import { describe, expect, it } from 'vitest';
import { GPT2_DELTAS } from './mocks/loraDeltas';
import { deltaCosMatrix, deltaStatsCsv, deltaStatsRows, normRows, sampleMeans } from './modelDeltasData';

describe('model + adapter deltas', () => {
  it('labels the sampled tokens by text and position, and marks where each text starts', () => {
    const m = deltaCosMatrix(GPT2_DELTAS);
    expect(m.rowLabels).toEqual(['t1 t@0', 't1 ·cat@2', 't2 a@0', 't2 ·cat@1']);
    expect(m.colLabels).toEqual(['1', '2', '3', '4']);
    expect(m.textStarts).toEqual([2]);
  });

  it('averages |cos| within texts and across them (off the diagonal)', () => {
    const { within, across } = sampleMeans(GPT2_DELTAS);
    expect(within).toBeCloseTo((0.5 + 0.6) / 2);
    expect(across).toBeCloseTo((0.25 + 0.75 + 0.5 + 0.9) / 4);
  });

  it('gives the summary as bars and CSV, and the norms per token', () => {
    expect(deltaStatsRows(GPT2_DELTAS)).toEqual([{ group: '5 tokens', pc1: 0.71, pc1Centred: 0.44, meanAbsCos: 0.62 }]);
    expect(deltaStatsCsv(GPT2_DELTAS).split('\n')[1]).toBe('gpt2,gpt2-lora,blocks.1.hook_resid_post,5,0.71,0.44,0.62,1.6,1.6,0.97');
    expect(normRows(GPT2_DELTAS).map((r) => r.label)).toEqual(['t1 t@0', 't1 he@1', 't1 ·cat@2', 't2 a@0', 't2 ·cat@1']);
  });
});
