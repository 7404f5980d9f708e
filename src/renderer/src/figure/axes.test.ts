import { describe, it, expect } from 'vitest';
import { axisTicks, coarseStep, decadeDomain, decadeTicks, formatTick, linearDomain, linearTicks, logDomain, logTickLabel, niceCeil, niceStep, planTicks, positiveExtent, positiveRange, pow10, thinTicks, unionDomain } from './axes';

describe('extents', () => {
  it('keeps the positive finite values only', () => {
    expect(positiveRange([4.8, 0.0021, 0, -1, NaN, null, undefined, Infinity])).toEqual([0.0021, 4.8]);
    expect(positiveRange([])).toBeNull();
  });
  it('reads recharts rows, skipping the x key and nulls', () => {
    expect(positiveExtent([{ step: 5, h0: null }], 'step')).toBeNull();
    expect(positiveExtent([{ index: 1, w0: null }], 'index')).toBeNull();
    expect(positiveExtent([{ step: 1000, h0: 3, h1: 0 }, { step: 2000, h0: 0.5, h1: 7 }], 'step')).toEqual([0.5, 7]);
  });
});

describe('log domains', () => {
  it('span whole decades, at least one', () => {
    expect(decadeDomain([12, 80])).toEqual([10, 100]);
    expect(decadeDomain([5, 5])).toEqual([1, 10]);
    expect(decadeDomain([1, 1])).toEqual([1, 10]);
    expect(decadeDomain([3e-8, 4])).toEqual([1e-8, 10]);
    expect(decadeDomain(null)).toBeNull();
  });
  it('are exact powers of ten', () => {
    expect(pow10(-4)).toBe(0.0001);
    expect(pow10(-5)).toBe(0.00001);
    expect(decadeDomain([2e-5, 3e-5])).toEqual([0.00001, 0.0001]);
  });
  it('fall back when no value is positive', () => {
    expect(logDomain([4.8, 0.0021, 0, -1, NaN])).toEqual([0.001, 10]);
    expect(logDomain([1])).toEqual([1, 10]);
    expect(logDomain([])).toEqual([0.01, 10]);
    expect(logDomain([0], [1, 100])).toEqual([1, 100]);
  });
  it('shared y-axis takes the union', () => {
    expect(unionDomain([10, 100], [1, 1000])).toEqual([1, 1000]);
    expect(unionDomain(null, [1, 2])).toEqual([1, 2]);
    expect(unionDomain([1, 2], null)).toEqual([1, 2]);
    expect(unionDomain(null, null)).toBeNull();
  });
});

describe('decadeTicks', () => {
  it('puts a tick on every decade of a narrow domain', () => {
    expect(decadeTicks([1e-3, 1e3])).toEqual([1e-3, 1e-2, 1e-1, 1, 10, 100, 1000]);
    expect(decadeTicks([0.1, 10])).toEqual([0.1, 1, 10]);
    expect(decadeTicks([0.001, 10], { maxTicks: 8 })).toEqual([0.001, 0.01, 0.1, 1, 10]);
  });
  it('adds 2× and 5× ticks over ≤ 2 decades when asked', () => {
    expect(decadeTicks([10, 100], { minor: true })).toEqual([10, 20, 50, 100]);
    expect(decadeTicks([1, 100], { minor: true })).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(decadeTicks([1e-3, 1e3], { minor: true })).toEqual([1e-3, 1e-2, 1e-1, 1, 10, 100, 1000]);
  });
  it('thins wide domains to every k-th decade, at most maxTicks', () => {
    expect(decadeTicks([1e-8, 10])).toEqual([1e-8, 1e-6, 1e-4, 1e-2, 1]);
    const wide = decadeTicks([1e-9, 10], { maxTicks: 5 });
    expect(wide.length).toBeLessThanOrEqual(5);
    expect(wide[0]).toBe(1e-9);
    for (let n = 0; n <= 30; n++) {
      for (const maxTicks of [5, 8, 9]) expect(decadeTicks([1, pow10(n)], { maxTicks }).length).toBeLessThanOrEqual(maxTicks);
      // Up to 16 decades the default keeps every ⌈decades / 8⌉-th decade.
      if (n <= 16) expect(decadeTicks([1, pow10(n)]).length).toBe(Math.floor(n / Math.max(1, Math.ceil(n / 8))) + 1);
    }
  });
});

describe('linear axes', () => {
  it('round tops', () => {
    expect(niceCeil(420)).toBe(500);
    expect(niceCeil(230)).toBe(250);
    expect(niceCeil(0)).toBe(1);
    expect(linearDomain([{ step: 1, h0: 400, h1: 560 }], 'step')).toEqual([0, 600]);
    expect(linearDomain([{ step: 1, h0: null }], 'step')).toBeNull();
  });
  it('round steps: closest to the count, or the smallest within it', () => {
    expect(niceStep(127, 6)).toBe(20);
    expect(niceStep(0, 6)).toBe(1);
    expect(niceStep(15, 6, true)).toBe(2);
    expect(coarseStep(300, 5)).toBe(100);
    expect(coarseStep(2500, 5)).toBe(500);
    expect(coarseStep(0, 5)).toBe(1);
  });
  it('ticks closest to 4 intervals (nuclear-norm axes)', () => {
    expect(linearTicks([0, 600])).toEqual([0, 200, 400, 600]);
    expect(linearTicks([0, 500])).toEqual([0, 100, 200, 300, 400, 500]);
    expect(linearTicks([0, 1.2])).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
  it('step ticks with at most 5 intervals', () => {
    const steps = (max: number) => linearTicks([0, max], { count: 5, fit: 'atMost' });
    expect(steps(2500)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(steps(300)).toEqual([0, 100, 200, 300]);
    expect(steps(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(steps(0)).toEqual([0]);
  });
});

describe('axisTicks', () => {
  it('few checkpoint steps: every one', () => {
    expect(axisTicks(250, 2000, [250, 1000, 2000])).toEqual([250, 1000, 2000]);
  });
  it('many indices: the first, then round multiples', () => {
    expect(axisTicks(1, 128)).toEqual([1, 20, 40, 60, 80, 100, 120]);
    expect(axisTicks(1, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(axisTicks(0, 20000)).toEqual([0, 5000, 10000, 15000, 20000]);
    expect(axisTicks(1, 1)).toEqual([1]);
    expect(axisTicks(1, 16)).toEqual([1, 2, 4, 6, 8, 10, 12, 14, 16]);
  });
});

describe('tick labels', () => {
  it('formats ticks compactly', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(0.01)).toBe('0.01');
    expect(formatTick(0.25)).toBe('0.25');
    expect(formatTick(1e-5)).toBe('1e-5');
    expect(formatTick(1000)).toBe('1e+3');
  });
  it('writes powers of ten as 1…1000 or 10ⁿ', () => {
    expect(logTickLabel(1)).toBe('1');
    expect(logTickLabel(1000)).toBe('1000');
    expect(logTickLabel(1e-8)).toBe('10⁻⁸');
    expect(logTickLabel(1e4)).toBe('10⁴');
    expect(logTickLabel(0.1)).toBe('10⁻¹');
    expect(logTickLabel(20)).toBe('20');
    expect(logTickLabel(0.005)).toBe('0.005');
  });
});

describe('tick label layout', () => {
  /** Whether flat labels centred at `pos` with widths `w` overlap (gap g). */
  const overlap = (pos: number[], w: number[], keep: number[], g = 0) => keep.some((i, j) => j > 0 && pos[i] - pos[keep[j - 1]] < (w[i] + w[keep[j - 1]]) / 2 + g);

  it('keeps every label when they fit, flat', () => {
    expect(planTicks([0, 50, 100], [20, 20, 20], 10)).toEqual({ keep: [0, 1, 2], angle: 0 });
    expect(planTicks([5], [20], 10)).toEqual({ keep: [0], angle: 0 });
    expect(planTicks([], [], 10)).toEqual({ keep: [], angle: 0 });
  });

  it('rotates crowded category labels to −45° when that is enough', () => {
    const pos = Array.from({ length: 8 }, (_, i) => i * 18);
    expect(planTicks(pos, pos.map(() => 40), 10, { rotate: true })).toEqual({ keep: [0, 1, 2, 3, 4, 5, 6, 7], angle: -45 });
  });

  it('thins to every k-th label (first kept) when even rotated ones collide, or when rotation is not allowed', () => {
    const pos = Array.from({ length: 20 }, (_, i) => i * 6);
    const w = pos.map(() => 30);
    const rot = planTicks(pos, w, 10, { rotate: true });
    expect(rot.angle).toBe(-45);
    expect(rot.keep[0]).toBe(0);
    for (let j = 1; j < rot.keep.length; j++) expect((pos[rot.keep[j]] - pos[rot.keep[j - 1]]) * Math.SQRT1_2).toBeGreaterThanOrEqual(12 - 1e-9);
    const flat = planTicks(pos, w, 10);
    expect(flat.angle).toBe(0);
    expect(overlap(pos, w, flat.keep)).toBe(false);
    expect(flat.keep.length).toBeGreaterThan(1);
  });

  it('never lets labels overlap, whatever the spacing and widths', () => {
    for (let n = 2; n <= 40; n += 3)
      for (const spacing of [3, 8, 20, 60])
        for (const width of [10, 35, 80]) {
          const pos = Array.from({ length: n }, (_, i) => i * spacing);
          const w = pos.map((_, i) => width * (0.6 + 0.4 * ((i * 7) % 5) / 4));
          const plan = planTicks(pos, w, 10);
          if (plan.keep.length > 1) expect(overlap(pos, w, plan.keep, 5)).toBe(false);
        }
  });

  it('thins numeric ticks for a narrow axis', () => {
    const ticks = [0, 500, 1000, 1500, 2000, 2500];
    expect(thinTicks(ticks, [0, 2500], 500, 12, formatTick)).toEqual(ticks);
    const narrow = thinTicks(ticks, [0, 2500], 90, 12, formatTick);
    expect(narrow.length).toBeLessThan(ticks.length);
    expect(narrow[0]).toBe(0);
  });
});
