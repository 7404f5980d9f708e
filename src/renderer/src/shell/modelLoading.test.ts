import { describe, expect, it } from 'vitest';
import type { ModelLoadingEvent } from '../../../shared/api';
import { loadingAmount, loadingPercent, loadingText } from '../../../shared/modelLoading';
import { applyModelLoading, type ModelLoad } from './modelLoading';

const ev = (bytesRead: number, totalBytes: number, extra: Partial<ModelLoadingEvent> = {}): ModelLoadingEvent => ({ kind: 'model-loading', id: 'gpt2', bytesRead, totalBytes, ...extra });

describe('model loading text', () => {
  it('reads as "Loading gpt2… 45% (214 / 475 MB)"', () => {
    expect(loadingText({ id: 'gpt2', bytesRead: 214_000_000, totalBytes: 475_000_000 })).toBe('Loading gpt2… 45% (214 / 475 MB)');
    expect(loadingText({ id: 'models/gemma', adapter: 'lora', bytesRead: 3_210_000_000, totalBytes: 14_500_000_000 })).toBe('Loading models/gemma + lora… 22% (3.2 / 14.5 GB)');
  });

  it('rounds the percent down, so 100% means all read; sizes take the total’s unit', () => {
    expect(loadingPercent(474_999_999, 475_000_000)).toBe(99);
    expect(loadingPercent(475_000_000, 475_000_000)).toBe(100);
    expect(loadingPercent(0, 0)).toBe(100);
    expect(loadingAmount(0, 548_105_171)).toBe('0 / 548 MB');
    expect(loadingAmount(12_300, 95_000)).toBe('12 / 95 kB');
    expect(loadingAmount(5, 12)).toBe('5 / 12 B');
  });
});

describe('applyModelLoading', () => {
  it('keeps one row per model (and adapter), updated in place, gone with the done event', () => {
    let rows: ModelLoad[] = [];
    rows = applyModelLoading(rows, ev(0, 475_000_000));
    rows = applyModelLoading(rows, ev(0, 1e9, { id: 'pythia' }));
    rows = applyModelLoading(rows, ev(214_000_000, 475_000_000));
    expect(rows.map((r) => [r.key, r.percent])).toEqual([
      ['gpt2', 45],
      ['pythia', 0],
    ]);
    expect(rows[0].text).toBe('Loading gpt2… 45% (214 / 475 MB)');
    rows = applyModelLoading(rows, ev(0, 475_000_000, { adapter: 'lora' }));
    expect(rows.map((r) => r.key)).toEqual(['gpt2', 'pythia', 'gpt2 + lora']);
    rows = applyModelLoading(rows, ev(475_000_000, 475_000_000, { done: true }));
    expect(rows.map((r) => r.key)).toEqual(['pythia', 'gpt2 + lora']);
    // A failed load ends too, below its total.
    rows = applyModelLoading(rows, ev(10, 1e9, { id: 'pythia', done: true }));
    expect(rows.map((r) => r.key)).toEqual(['gpt2 + lora']);
  });

  it('never moves backwards within one load', () => {
    let rows = applyModelLoading([], ev(300, 1000));
    rows = applyModelLoading(rows, ev(200, 1000));
    expect(rows[0].bytesRead).toBe(300);
    expect(rows[0].percent).toBe(30);
  });
});
