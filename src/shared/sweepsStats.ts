/**
 * Mean ± sd over replicas (seeds): what Runs → Group by seed and the Sweeps view's figure both draw.
 * Here, not in a view, because views may not import each other's files (STYLE.md 9).
 */

export interface MeanSd {
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for a single value. */
  sd: number;
  n: number;
}

/** Mean and sample standard deviation of the values. */
export function meanSd(values: readonly number[]): MeanSd {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
}
