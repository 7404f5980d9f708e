import { describe, expect, it } from 'vitest';
import { formatAccuracyCi, wilsonInterval } from './wilson';

describe('Wilson interval', () => {
  it('matches the textbook values and stays inside [0, 1]', () => {
    // 0.965 on 400: the published Wilson 95% interval is [0.9422, 0.9790].
    const a = wilsonInterval(386, 400);
    expect(a.lo).toBeCloseTo(0.9422, 3);
    expect(a.hi).toBeCloseTo(0.979, 3);
    const all = wilsonInterval(100, 100);
    expect(all.hi).toBe(1);
    expect(all.lo).toBeCloseTo(0.963, 3);
    const none = wilsonInterval(0, 50);
    expect(none.lo).toBe(0);
    expect(none.hi).toBeCloseTo(0.0713, 3);
  });

  it('formats an accuracy with its interval and n, or says n/a', () => {
    expect(formatAccuracyCi(0.965, 400)).toBe('0.965 [0.942, 0.979] (n = 400)');
    expect(formatAccuracyCi(NaN, 10)).toBe('n/a');
    expect(formatAccuracyCi(0.5, 0)).toBe('0.500');
  });
});
