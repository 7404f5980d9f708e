import { formatTick, planTicks } from '../../figure/axes';
import { escapeXml, standaloneSvg, type LegendEntry } from '../../figure/exportFigure';
import { heatmapLayout, heatmapSvgBody, type HeatmapSpec } from '../../figure/heatmapFigure';
import { textWidth } from '../../figure/text';
import { seriesColour, type FigureTheme } from '../../figure/theme';
import type { CosMatrix, TokenCosChart } from './loraSteeringData';

/**
 * The two LoRA-vs-steering figures too wide to scale into a column (the |cos| matrix and the per-token
 * cosines, 48 tokens each) laid out again for the export's theme: at `theme.fitWidth` for a column,
 * with the labels thinned (and shortened) so they print at the theme's size without colliding.
 */

const n2 = (v: number): string => String(Math.round(v * 100) / 100);
const SIN45 = Math.SQRT1_2;

// ─── |cos| matrix ───────────────────────────────────────────────────────────────────────────────────

/**
 * The |cos| heatmap's spec. On screen: full row labels (`T3 codename_0@2`) and cells at least a
 * line tall. For a column (`theme.fitWidth`): cells sized to the column and rows named by their ids
 * like the columns (`T3`), which the heatmap thins to what fits; the tokens are in the CSV.
 */
export function cosHeatmapSpec(matrix: CosMatrix, theme: FigureTheme): HeatmapSpec {
  const print = theme.fitWidth !== undefined;
  return {
    values: matrix.values,
    rowLabels: print ? matrix.colLabels : matrix.rowLabels,
    colLabels: matrix.colLabels,
    scale: 'sequential',
    domain: [0, 1],
    valueLabel: '|cos|',
    cell: print ? undefined : matrix.values.length > 24 ? Math.max(11, theme.fontSize) : undefined,
  };
}

/** The train/unrelated split as two white lines across the matrix (same geometry on screen and in SVG). */
export function cosSplitLines(spec: HeatmapSpec, split: number, theme: FigureTheme): { x: number; y: number; markup: string } | null {
  const n = spec.values.length;
  if (split <= 0 || split >= n) return null;
  const L = heatmapLayout(spec, theme);
  const x = L.x0 + split * L.cell;
  const y = L.y0 + split * L.cell;
  const w = n2(Math.min(2, Math.max(1, L.cell / 3)));
  const markup = `<line x1="${n2(x)}" y1="${n2(L.y0)}" x2="${n2(x)}" y2="${n2(L.y0 + L.height)}" stroke="#ffffff" stroke-width="${w}"/><line x1="${n2(L.x0)}" y1="${n2(y)}" x2="${n2(L.x0 + L.width)}" y2="${n2(y)}" stroke="#ffffff" stroke-width="${w}"/>`;
  return { x, y, markup };
}

/** The |cos| matrix as a standalone SVG laid out with `theme`. */
export function cosHeatmapSvg(matrix: CosMatrix, theme: FigureTheme, title: string): string {
  const spec = cosHeatmapSpec(matrix, theme);
  const L = heatmapLayout(spec, theme);
  const lines = cosSplitLines(spec, matrix.split, theme);
  return standaloneSvg(heatmapSvgBody(spec, theme) + (lines?.markup ?? ''), L.totalWidth, L.totalHeight, theme, { title });
}

// ─── Per-token cosine ───────────────────────────────────────────────────────────────────────────────

export interface TokenCosLayout {
  width: number;
  height: number;
  /** Plot area. */
  x0: number;
  y0: number;
  plotWidth: number;
  plotHeight: number;
  /** Indices of the bars whose labels are drawn, and their angle. */
  keep: number[];
  angle: 0 | -45;
}

const Y_TICKS = [-1, -0.5, 0, 0.5, 1];
export const TOKEN_COS_Y_LABEL = 'cos(Δ, trained)';

/**
 * Geometry of the per-token cosine chart `width` units wide: a y axis over [−1, 1], one bar per token,
 * the token labels at −45° thinned to every k-th that fits (the first and the last kept), and room
 * under them for the labels' full length, so the legend below never meets them.
 */
export function tokenCosLayout(chart: TokenCosChart, theme: FigureTheme, width: number): TokenCosLayout {
  const fs = theme.fontSize;
  const n = chart.rows.length;
  const tickW = Math.max(...Y_TICKS.map((t) => textWidth(formatTick(t), fs)));
  const left0 = 4 + fs * 1.3 + tickW + fs * 0.3 + 5;
  const right = fs * 0.6;
  const labels = chart.rows.map((r) => String(r.token));
  const widths = labels.map((l) => textWidth(l, fs));
  const place = (x0: number) => {
    const plotWidth = Math.max(10, width - x0 - right);
    const band = plotWidth / Math.max(1, n);
    const plan = planTicks(
      labels.map((_, i) => (i + 0.5) * band),
      widths,
      fs,
      { rotate: true, gap: fs * 0.4 },
    );
    // A rotated label runs down-left from its bar: the left margin must hold the first one.
    const need = plan.angle === 0 ? Math.max(0, ...plan.keep.map((i) => widths[i] / 2 + 2 - (i + 0.5) * band)) : Math.max(0, ...plan.keep.map((i) => widths[i] * SIN45 + fs * 0.35 + 2 - (i + 0.5) * band));
    return { plotWidth, plan, need };
  };
  // Two passes: the left margin depends (a little) on the bars' width through the first label.
  let x0 = left0;
  let p = place(x0);
  for (let k = 0; k < 2 && p.need > x0; k++) {
    x0 = Math.max(left0, p.need);
    p = place(x0);
  }
  const plotHeight = Math.max(fs * 8, Math.min(fs * 16, width * 0.42));
  const y0 = fs * 0.7;
  const labelH = p.plan.angle === 0 ? fs * 1.4 : Math.max(0, ...p.plan.keep.map((i) => widths[i])) * SIN45 + fs;
  return { width: Math.ceil(width), height: Math.ceil(y0 + plotHeight + 6 + labelH + fs * 0.4), x0, y0, plotWidth: p.plotWidth, plotHeight, keep: p.plan.keep, angle: p.plan.angle };
}

/** The per-token cosine chart's SVG body (axes, bars, thinned labels) for `tokenCosLayout`. */
export function tokenCosSvgBody(chart: TokenCosChart, theme: FigureTheme, L: TokenCosLayout): string {
  const fs = theme.fontSize;
  const n = chart.rows.length;
  const band = L.plotWidth / Math.max(1, n);
  const y = (v: number) => L.y0 + ((1 - v) / 2) * L.plotHeight;
  const out: string[] = [];
  for (const t of Y_TICKS) {
    out.push(`<line x1="${n2(L.x0)}" y1="${n2(y(t))}" x2="${n2(L.x0 + L.plotWidth)}" y2="${n2(y(t))}" stroke="${theme.grid}" stroke-dasharray="3 3"/>`);
    out.push(`<line x1="${n2(L.x0 - 5)}" y1="${n2(y(t))}" x2="${n2(L.x0)}" y2="${n2(y(t))}" stroke="${theme.muted}"/>`);
    out.push(`<text x="${n2(L.x0 - 5 - fs * 0.3)}" y="${n2(y(t) + fs * 0.35)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`);
  }
  chart.rows.forEach((r, i) => {
    const si = chart.series.findIndex((s) => typeof r[s.key] === 'number');
    if (si < 0) return;
    const v = Math.max(-1, Math.min(1, r[chart.series[si].key] as number));
    const top = Math.min(y(v), y(0));
    const h = Math.abs(y(v) - y(0));
    out.push(`<rect x="${n2(L.x0 + i * band + band * 0.11)}" y="${n2(top)}" width="${n2(band * 0.78)}" height="${n2(h)}" fill="${seriesColour(theme, si)}"/>`);
  });
  // Axes and the zero line over the bars.
  out.push(`<line x1="${n2(L.x0)}" y1="${n2(L.y0)}" x2="${n2(L.x0)}" y2="${n2(L.y0 + L.plotHeight)}" stroke="${theme.muted}"/>`);
  out.push(`<line x1="${n2(L.x0)}" y1="${n2(L.y0 + L.plotHeight)}" x2="${n2(L.x0 + L.plotWidth)}" y2="${n2(L.y0 + L.plotHeight)}" stroke="${theme.muted}"/>`);
  out.push(`<line x1="${n2(L.x0)}" y1="${n2(y(0))}" x2="${n2(L.x0 + L.plotWidth)}" y2="${n2(y(0))}" stroke="${theme.foreground}"/>`);
  const base = L.y0 + L.plotHeight;
  for (const i of L.keep) {
    const x = L.x0 + (i + 0.5) * band;
    const label = escapeXml(String(chart.rows[i].token));
    out.push(`<line x1="${n2(x)}" y1="${n2(base)}" x2="${n2(x)}" y2="${n2(base + 4)}" stroke="${theme.muted}"/>`);
    if (L.angle === 0) out.push(`<text x="${n2(x)}" y="${n2(base + 6 + fs * 0.9)}" text-anchor="middle">${label}</text>`);
    else out.push(`<text x="${n2(x)}" y="${n2(base + 6)}" text-anchor="end" dominant-baseline="middle" transform="rotate(-45 ${n2(x)} ${n2(base + 6)})">${label}</text>`);
  }
  const ly = L.y0 + L.plotHeight / 2;
  const lx = 4 + fs * 0.8;
  out.push(`<text x="${n2(lx)}" y="${n2(ly)}" text-anchor="middle" fill="${theme.muted}" transform="rotate(-90 ${n2(lx)} ${n2(ly)})">${escapeXml(TOKEN_COS_Y_LABEL)}</text>`);
  return out.join('');
}

/**
 * The per-token cosine chart as a standalone SVG laid out with `theme`: `theme.fitWidth` wide for a
 * column (else `width`), the legend below the labels.
 */
export function tokenCosSvg(chart: TokenCosChart, theme: FigureTheme, opts: { title: string; width: number; legend: readonly LegendEntry[] }): string {
  const L = tokenCosLayout(chart, theme, theme.fitWidth ?? opts.width);
  return standaloneSvg(tokenCosSvgBody(chart, theme, L), L.width, L.height, theme, { title: opts.title, legend: opts.legend });
}
