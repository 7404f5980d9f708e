import type { AttentionAnalysis } from '../../../../shared/api';
import { escapeXml } from '../../figure/exportFigure';
import { colourBarHorizontalSvg, heatmapLayout, heatmapSvgBody, horizontalKeyWidth, type HeatmapSpec } from '../../figure/heatmapFigure';
import { extent, type ColourScale, type FigureTheme } from '../../figure/theme';

/**
 * Pure shaping for the Attention view: AttentionAnalysis (heads[head][prompt][query][key], see
 * src/shared/analysis.ts) → one query × key matrix per layer and head, a colour scale shared by both
 * checkpoints, the CSV and the composed SVG figure.
 */

/** Which heads to show: every one, or one layer and/or one head index. */
export interface HeadFilter {
  layer: number | 'all';
  head: number | 'all';
}

export const ALL_HEADS: HeadFilter = { layer: 'all', head: 'all' };

/** One head's pattern for prompt 0: values[query][key], [T][T]. */
export interface HeadPattern {
  layer: number;
  head: number;
  /** `L{layer}H{head}`, as in direct logit attribution. */
  label: string;
  values: number[][];
}

export function headLabel(layer: number, head: number): string {
  return `L${layer}H${head}`;
}

/** The heads the filter keeps, ordered head-major (row = head, column = layer in the grid). */
export function headPatterns(r: AttentionAnalysis, filter: HeadFilter = ALL_HEADS): HeadPattern[] {
  const out: HeadPattern[] = [];
  const layers = r.layers.filter((L) => filter.layer === 'all' || L.layer === filter.layer);
  const nHeads = Math.max(0, ...layers.map((L) => L.heads.length));
  for (let h = 0; h < nHeads; h++) {
    if (filter.head !== 'all' && h !== filter.head) continue;
    for (const L of layers) if (h < L.heads.length) out.push({ layer: L.layer, head: h, label: headLabel(L.layer, h), values: L.heads[h][0] });
  }
  return out;
}

/** Layer indices and the largest head count of a result (for the layer / head filter). */
export function headChoices(results: readonly (AttentionAnalysis | undefined)[]): { layers: number[]; nHeads: number } {
  const layers = new Set<number>();
  let nHeads = 0;
  for (const r of results) {
    if (!r) continue;
    for (const L of r.layers) {
      layers.add(L.layer);
      nHeads = Math.max(nHeads, L.heads.length);
    }
  }
  return { layers: [...layers].sort((a, b) => a - b), nHeads };
}

/** Grid columns: one per layer shown (heads stack down a column). */
export function gridColumns(patterns: readonly HeadPattern[]): number {
  return Math.max(1, new Set(patterns.map((p) => p.layer)).size);
}

/** Under the causal mask a query never reads a later key: those cells hold no score (not a score of 0). */
export function causallyMasked(query: number, key: number): boolean {
  return key > query;
}

export const MASKED_LABEL = 'masked (causal)';
export const MASKED_NOTE = 'Hatched grey: masked cells (a query cannot attend to later keys), not a weight of 0.';

export interface AttentionScale {
  scale: ColourScale;
  domain: [number, number];
  valueLabel: string;
  /** One line for the caption. */
  note: string;
}

/**
 * Softmax patterns are probabilities: a fixed 0..1 sequential scale. Linear attention's raw scores
 * are unbounded and can be negative: the data's extent over every pattern passed (both checkpoints,
 * so the two sides compare), diverging around 0 when there are negative scores.
 */
export function attentionScale(softmax: boolean, patterns: readonly HeadPattern[]): AttentionScale {
  if (softmax) return { scale: 'sequential', domain: [0, 1], valueLabel: 'attention weight', note: `Softmax weights on a fixed 0–1 scale. ${MASKED_NOTE}` };
  const [lo, hi] = extent(patterns.flatMap((p) => p.values));
  if (lo < 0) {
    const m = Math.max(-lo, hi) || 1;
    return { scale: 'diverging', domain: [-m, m], valueLabel: 'score q·k', note: `Linear attention: raw masked scores q·k (unnormalised, can be negative), diverging scale centred on 0, shared by both checkpoints. ${MASKED_NOTE}` };
  }
  return { scale: 'sequential', domain: [0, hi > 0 ? hi : 1], valueLabel: 'score q·k', note: `Linear attention: raw masked scores q·k (unnormalised), scale 0 to the largest score over both checkpoints. ${MASKED_NOTE}` };
}

/**
 * Whether patterns are softmax, from the run's model config when known, else from the data (every
 * row a distribution: non-negative and summing to 1).
 */
export function isSoftmax(attention: 'softmax' | 'linear' | undefined, results: readonly (AttentionAnalysis | undefined)[]): boolean {
  if (attention) return attention === 'softmax';
  for (const r of results)
    for (const L of r?.layers ?? [])
      for (const head of L.heads)
        for (const row of head[0] ?? []) {
          const s = row.reduce((a, v) => a + v, 0);
          if (row.some((v) => v < -1e-6) || Math.abs(s - 1) > 1e-3) return false;
        }
  return true;
}

/** Cell edge for a T-token pattern: small grids stay compact, long prompts stay legible. */
export function cellSize(T: number): number {
  return Math.max(16, Math.min(26, Math.floor(160 / Math.max(T, 1))));
}

export function patternSpec(p: HeadPattern, tokens: readonly string[], s: AttentionScale): HeatmapSpec {
  return { values: p.values, rowLabels: [...tokens], colLabels: [...tokens], scale: s.scale, domain: s.domain, valueLabel: s.valueLabel, cell: cellSize(tokens.length), masked: causallyMasked, maskedLabel: MASKED_LABEL };
}

/** The CSV of the patterns shown: the attention analysis's table (src/shared/analyses/attention.ts), as `oocr analyze attention --format csv` writes it. */
export { ATTENTION_CSV_HEADER as CSV_HEADER, attentionCsv } from '../../../../shared/analyses/attention';

/**
 * Labelled heatmaps as small multiples in one SVG body (vector cells), with its size: a column per
 * layer, a row per head, token labels on the left column and the bottom row only, and under the grid
 * one horizontal colour bar with the masked-cell key, since every pattern shares the scale. With
 * `theme.fitWidth` (print) the cells are sized so the grid is that wide.
 */
export function gridSvg(items: readonly { label: string; spec: HeatmapSpec }[], columns: number, theme: FigureTheme, gapArg?: number): { body: string; width: number; height: number } {
  if (!items.length) return { body: '', width: 1, height: 1 };
  const fs = theme.fontSize;
  // Rotated labels of neighbouring columns run parallel: the gap keeps them a line apart.
  const gap = gapArg ?? Math.max(12, fs * 1.6);
  const vgap = Math.max(4, fs * 0.4);
  const labelH = fs * 1.4;
  const nRows = Math.ceil(items.length / columns);
  const first = items[0].spec;
  const T = first.values[0]?.length ?? 0;
  const flags = (i: number) => ({ showRowLabels: i % columns === 0, showColLabels: Math.floor(i / columns) === nRows - 1 || i + columns >= items.length, colourBar: false });
  // The cell is fixed for the whole grid: each heatmap is laid out at it, not fitted on its own.
  const cellTheme: FigureTheme = { ...theme, fitWidth: undefined };
  const domain = heatmapLayout({ ...first, colourBar: false }, cellTheme).domain;
  /**
   * Positions at a cell edge: heatmaps aligned on their cells (x0 of the left column's leaves room
   * for the row labels; the others' rotated column labels reach into the gap, parallel to their
   * neighbours').
   */
  const arrange = (cell: number) => {
    const specs = items.map((it, i) => ({ ...it.spec, cell, ...flags(i) }));
    const layouts = specs.map((sp) => heatmapLayout(sp, cellTheme));
    const left = Math.max(...layouts.filter((_, i) => i % columns === 0).map((L) => L.x0));
    const cellsW = T * cell;
    const cellX = Array.from({ length: columns }, (_, c) => left + c * (cellsW + gap));
    const width = left + columns * cellsW + (columns - 1) * gap + Math.max(4, fs * 0.5);
    return { specs, layouts, cellX, left, width };
  };
  let cell = first.cell ?? heatmapLayout(first, cellTheme).cell;
  let A = arrange(cell);
  if (theme.fitWidth && T > 0) {
    // The width grows by columns × T per unit of cell (the label margins barely move): a few secant steps.
    for (let k = 0; k < 4 && Math.abs(A.width - theme.fitWidth) > 0.5; k++) {
      cell = Math.max(1, Math.min(40, cell + (theme.fitWidth - A.width) / (columns * T)));
      A = arrange(cell);
    }
  }
  const { specs, layouts, cellX } = A;
  const rowH = Array.from({ length: nRows }, (_, r) => labelH + Math.max(0, ...layouts.slice(r * columns, (r + 1) * columns).map((L) => L.totalHeight)));
  const rowY = rowH.map((_, r) => rowH.slice(0, r).reduce((a, h) => a + h + vgap, 0));
  const parts = items.map((it, i) => {
    const L = layouts[i];
    const x = cellX[i % columns] - L.x0;
    const y = rowY[Math.floor(i / columns)];
    return (
      `<g transform="translate(${n2(x)} ${n2(y)})">` +
      `<text x="${n2(L.x0 + L.width / 2)}" y="${n2(fs)}" text-anchor="middle" font-weight="600">${escapeXml(it.label)}</text>` +
      `<g transform="translate(0 ${n2(labelH)})">${heatmapSvgBody(specs[i], cellTheme, { cells: true, idPrefix: `attn-${i}` })}</g></g>`
    );
  });
  const gridH = rowH.reduce((a, h) => a + h, 0) + vgap * (nRows - 1);
  // The shared key under the grid: the colour bar as wide as the room beside the masked key allows.
  const keyW = horizontalKeyWidth(first, theme);
  const barW = Math.max(fs * 6, Math.min(fs * 16, A.width - A.left - keyW - fs));
  const bar = colourBarHorizontalSvg(first, theme, domain, A.left, gridH + fs * 0.6, barW, 'attn-bar');
  parts.push(bar.markup);
  const width = Math.max(A.width, A.left + barW + keyW + 4);
  const height = gridH + fs * 0.6 + bar.height + 4;
  return { body: parts.join(''), width: Math.max(width, 1), height: Math.max(height, 1) };
}

const n2 = (v: number): string => String(Math.round(v * 100) / 100);

/** Default pair of checkpoints to compare: the first and the last. */
export function defaultSteps(checkpoints: readonly number[]): [number, number] | null {
  if (!checkpoints.length) return null;
  return [checkpoints[0], checkpoints[checkpoints.length - 1]];
}
