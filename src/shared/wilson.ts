/**
 * The Wilson score interval of a proportion: k successes in n trials, at z (1.96: 95%). Unlike the
 * normal approximation it stays inside [0, 1] and is honest at 0 and 1 — an accuracy of 1.000 on 100
 * questions is [0.963, 1], not [1, 1].
 */
export function wilsonInterval(k: number, n: number, z = 1.96): { lo: number; hi: number } {
  if (!(n > 0) || !Number.isFinite(k)) return { lo: NaN, hi: NaN };
  const p = Math.min(1, Math.max(0, k / n));
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At p = 0 or 1 one end is exactly 0 or 1; float round-off would leave 0.9999999999999999.
  return { lo: p === 0 ? 0 : Math.max(0, centre - half), hi: p === 1 ? 1 : Math.min(1, centre + half) };
}

/** An accuracy with its 95% Wilson interval and the number of questions: "0.965 [0.942, 0.979] (n = 400)". */
export function formatAccuracyCi(acc: number, n: number, digits = 3): string {
  if (!Number.isFinite(acc)) return 'n/a';
  if (!(n > 0)) return acc.toFixed(digits);
  const { lo, hi } = wilsonInterval(acc * n, n);
  return `${acc.toFixed(digits)} [${lo.toFixed(digits)}, ${hi.toFixed(digits)}] (n = ${n})`;
}
