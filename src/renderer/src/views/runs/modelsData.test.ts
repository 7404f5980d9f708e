import { describe, expect, it } from 'vitest';
import { MODELS } from './mocks/models';
import { formatBytes, formatCount, formatLayers, modelRow } from './modelsData';

describe('models table', () => {
  it('formats parameter counts and sizes as the Hub does', () => {
    expect(formatCount(124_439_808)).toBe('124.4M');
    expect(formatCount(1_235_814_400)).toBe('1.24B');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(800)).toBe('800');
    expect(formatCount(undefined)).toBe('—');
    expect(formatBytes(548_105_171)).toBe('548 MB');
    expect(formatBytes(2_471_645_608)).toBe('2.47 GB');
    expect(formatBytes(40_100)).toBe('40.1 kB');
    expect(formatBytes(12)).toBe('12 B');
  });

  it('shows architecture, shape, size, dtype and adapters with rank and layers', () => {
    expect(modelRow(MODELS[0])).toMatchObject({
      id: 'gpt2',
      source: 'workspace',
      architecture: 'gpt2',
      layers: '12',
      dModel: '768',
      params: '124.4M',
      size: '548 MB',
      dtype: 'F32',
      tokenizer: 'yes',
      adapters: [{ id: 'gpt2-lora', text: 'gpt2-lora (r 8, α 16, layers 4–6)' }],
    });
    expect(formatLayers([0, 2, 5])).toBe('0, 2, 5');
    expect(formatLayers([1, 2])).toBe('1, 2');
  });

  it('keeps an unreadable model and a broken adapter with their errors', () => {
    const r = modelRow(MODELS[2]);
    expect(r.error).toMatch(/mamba/);
    expect(r.architecture).toBe('—');
    expect(modelRow(MODELS[1]).adapters[0]).toEqual({ id: 'adapters/old-lora', text: 'adapters/old-lora', error: expect.stringMatching(/lora_A/) });
    expect(modelRow(MODELS[1]).source).toBe('opened by path');
  });
});
