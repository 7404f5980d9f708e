import { fmt } from './heatmapFigure';
import { textWidth } from './text';

/**
 * Axis helpers shared by the chart views: domains and ticks for log axes (whole decades) and linear
 * axes (round steps), and compact tick labels. All pure; domains are `[lo, hi]`.
 */

export type Domain = [number, number];

/** The power of ten 10^e as its exact decimal (`Number('1e-4')`; `10 ** -4` is 9.999…e-5). */
export function pow10(e: number): number {
  return Number(`1e${e}`);
}

// ─── Extents and domains ──────────────────────────────────────────────────────────────────────────

/** [min, max] of the positive finite values (null, NaN, zero and negatives skipped), or null. */
export function positiveRange(values: Iterable<number | null | undefined>): Domain | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v === null || v === undefined || !(v > 0) || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Every value of `rows` except those under the key `skip` (the x column of recharts rows). */
function* rowValues(rows: readonly Readonly<Record<string, number | null>>[], skip: string): Generator<number | null> {
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (k !== skip) yield v;
}

/** [min, max] of the positive, non-null series values of recharts `rows` (keys other than `skip`), or null. */
export function positiveExtent(rows: readonly Readonly<Record<string, number | null>>[], skip: string): Domain | null {
  return positiveRange(rowValues(rows, skip));
}

/** A log-axis domain of whole decades around [lo, hi] (at least one decade), or null for null. */
export function decadeDomain(ext: Domain | null): Domain | null {
  if (!ext) return null;
  const a = Math.floor(Math.log10(ext[0]));
  let b = Math.ceil(Math.log10(ext[1]));
  if (b <= a) b = a + 1;
  return [pow10(a), pow10(b)];
}

/** Whole decades around the positive finite `values`; `fallback` when there are none (a log axis needs a positive domain). */
export function logDomain(values: Iterable<number | null | undefined>, fallback: Domain = [0.01, 10]): Domain {
  return decadeDomain(positiveRange(values)) ?? [fallback[0], fallback[1]];
}

/** Union of two domains (either may be null): the shared-y-axis option. */
export function unionDomain(a: Domain | null, b: Domain | null): Domain | null {
  if (!a) return b;
  if (!b) return a;
  return [Math.min(a[0], b[0]), Math.max(a[1], b[1])];
}

const MANTISSAS = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/** Rounds up to a round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × a power of ten); 1 for v ≤ 0. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = pow10(Math.floor(Math.log10(v)));
  for (const m of MANTISSAS) if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}

/** A linear domain [0, niceCeil(max · 1.05)] over the positive values of `rows` (keys other than `skip`), or null. */
export function linearDomain(rows: readonly Readonly<Record<string, number | null>>[], skip: string): Domain | null {
  const ext = positiveExtent(rows, skip);
  return ext ? [0, niceCeil(ext[1] * 1.05)] : null;
}

// ─── Ticks ────────────────────────────────────────────────────────────────────────────────────────

/**
 * Powers of ten in a decade domain (log-axis ticks), every k-th decade so that at most `maxTicks`
 * remain. `minor` adds 2× and 5× ticks when the domain spans ≤ 2 decades.
 */
export function decadeTicks(domain: Domain, { maxTicks = 9, minor = false }: { maxTicks?: number; minor?: boolean } = {}): number[] {
  const a = Math.round(Math.log10(domain[0]));
  const b = Math.round(Math.log10(domain[1]));
  const every = Math.max(1, Math.ceil((b - a + 1) / maxTicks));
  const out: number[] = [];
  for (let e = a; e <= b; e += every) {
    out.push(pow10(e));
    if (minor && b - a <= 2 && e < b) out.push(Number(`2e${e}`), Number(`5e${e}`));
  }
  return out;
}

const STEP_MANTISSAS = [1, 2, 2.5, 5, 10];

/**
 * A round step (1, 2, 2.5 or 5 × 10ⁿ; no 2.5 below 10 when `integer`) giving closest to `count`
 * intervals over `span`; ties go to the larger step. 1 for an empty span.
 */
export function niceStep(span: number, count: number, integer = false): number {
  if (!(span > 0)) return 1;
  const p = pow10(Math.floor(Math.log10(span / Math.max(1, count))));
  let best = Infinity;
  for (const m of STEP_MANTISSAS) {
    const st = m * p;
    if (integer && !Number.isInteger(st)) continue;
    if (best === Infinity || Math.abs(span / st - count) <= Math.abs(span / best - count)) best = st;
  }
  return best === Infinity ? 1 : best;
}

/** The smallest round step (1, 2, 2.5 or 5 × 10ⁿ) cutting `span` into at most `count` intervals. 1 for an empty span. */
export function coarseStep(span: number, count: number): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const mag = pow10(Math.floor(Math.log10(raw)));
  return STEP_MANTISSAS.map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
}

/**
 * Ticks on the multiples of a round step inside a linear domain. `fit: 'nearest'` (default) picks
 * the step giving closest to `count` intervals (niceStep), `'atMost'` the smallest giving no more
 * (coarseStep: step axes, `0, 500, …, 2500`).
 */
export function linearTicks(domain: Domain, { count = 4, fit = 'nearest' }: { count?: number; fit?: 'nearest' | 'atMost' } = {}): number[] {
  const [lo, hi] = domain;
  const span = hi - lo;
  const step = fit === 'atMost' ? coarseStep(span, count) : niceStep(span, count);
  // A hair of tolerance so the top survives round-off in the running sum.
  const limit = hi + Math.max(Math.abs(hi) * 1e-12, step * 1e-9);
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= limit; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/**
 * X ticks over [lo, hi]: every value of `exact` when there are few (the checkpoint steps), else lo
 * and the multiples of a 1-2-5 integer step (`index 1, 20, 40, …`).
 */
export function axisTicks(lo: number, hi: number, exact?: readonly number[], count = 6): number[] {
  if (exact && exact.length <= 9) return [...exact];
  const step = Math.max(1, niceStep(hi - lo, count, true));
  const out = [lo];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) if (t - out[out.length - 1] >= step * 0.5) out.push(t);
  return out;
}

// ─── Tick labels ──────────────────────────────────────────────────────────────────────────────────

/** Compact tick text: 1e-3, 0.01, 0.1, 1, 10, 1e+3. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-2 && a < 1e3 ? String(Number(v.toPrecision(3))) : v.toExponential(0);
}

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/** Log-axis tick text: 1, 10, 100, 1000 and 10ⁿ (superscript) for other powers of ten, else the short number. */
export function logTickLabel(v: number): string {
  const e = Math.log10(v);
  if (Math.abs(e - Math.round(e)) < 1e-9) {
    const n = Math.round(e);
    if (n >= 0 && n <= 3) return String(pow10(n));
    return `10${String(n).replace(/./g, (c) => SUPERSCRIPT[c] ?? c)}`;
  }
  return v >= 1e-3 && v < 1e4 ? String(Number(v.toPrecision(3))) : fmt(v);
}

// ─── Tick label layout ────────────────────────────────────────────────────────────────────────────

export interface TickPlan {
  /** Indices of the ticks whose labels are drawn. */
  keep: number[];
  /** Label rotation in degrees: 0 (horizontal) or −45. */
  angle: 0 | -45;
}

/**
 * Which tick labels to draw so none overlaps another, and at what angle, given each label's centre
 * along the axis (`positions`, ascending, layout units) and its width (`widths`) at `fontSize`.
 * Horizontal when every label fits; else, when `rotate` is allowed, at −45° (rotated labels need only
 * 1.2 × `fontSize` of spacing across their baselines); else, or when even rotated ones collide, every k-th label
 * with the smallest k that fits, the first always kept (and the last when it fits too).
 */
export function planTicks(positions: readonly number[], widths: readonly number[], fontSize: number, { rotate = false, gap }: { rotate?: boolean; gap?: number } = {}): TickPlan {
  const n = positions.length;
  if (n <= 1) return { keep: n ? [0] : [], angle: 0 };
  const g = gap ?? fontSize * 0.5;
  const fitsFlat = (idx: readonly number[]) => idx.every((i, j) => j === 0 || positions[i] - positions[idx[j - 1]] >= (widths[i] + widths[idx[j - 1]]) / 2 + g);
  // Rotated by 45°, neighbours a distance d apart along the axis are d·sin 45° apart across their baselines.
  const fitsRotated = (idx: readonly number[]) => idx.every((i, j) => j === 0 || (positions[i] - positions[idx[j - 1]]) * Math.SQRT1_2 >= fontSize * 1.2);
  const all = positions.map((_, i) => i);
  if (fitsFlat(all)) return { keep: all, angle: 0 };
  if (rotate && fitsRotated(all)) return { keep: all, angle: -45 };
  const fits = rotate ? fitsRotated : fitsFlat;
  for (let k = 2; k <= n; k++) {
    const keep = all.filter((i) => i % k === 0);
    if (!fits(keep)) continue;
    // The last tick (the axis's end) too, in place of the k-th before it when they would collide.
    const last = n - 1;
    if (keep[keep.length - 1] !== last) {
      const withLast = [...keep, last];
      if (fits(withLast)) return { keep: withLast, angle: rotate ? -45 : 0 };
      const swapped = [...keep.slice(0, -1), last];
      if (keep.length > 1 && fits(swapped)) return { keep: swapped, angle: rotate ? -45 : 0 };
    }
    return { keep, angle: rotate ? -45 : 0 };
  }
  return { keep: [0], angle: rotate ? -45 : 0 };
}

/**
 * Numeric ticks thinned so their labels (`format`ted, measured at `fontSize` in the figure font) fit
 * an axis `length` units long over `domain`: the ticks recharts is given, so it draws every one.
 */
export function thinTicks(ticks: readonly number[], domain: Domain, length: number, fontSize: number, format: (v: number) => string, measure: (s: string, size: number) => number = textWidth): number[] {
  const span = domain[1] - domain[0] || 1;
  const pos = ticks.map((t) => ((t - domain[0]) / span) * length);
  const plan = planTicks(pos, ticks.map((t) => measure(format(t), fontSize)), fontSize);
  return plan.keep.map((i) => ticks[i]);
}
