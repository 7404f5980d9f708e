import type { AttentionAnalysis } from '../../../../shared/api';
import { escapeXml } from '../../figure/exportFigure';
import { heatmapLayout, heatmapSvgBody, type HeatmapSpec } from '../../figure/heatmapFigure';
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
  if (softmax) return { scale: 'sequential', domain: [0, 1], valueLabel: 'attention weight', note: 'Softmax weights on a fixed 0–1 scale.' };
  const [lo, hi] = extent(patterns.flatMap((p) => p.values));
  if (lo < 0) {
    const m = Math.max(-lo, hi) || 1;
    return { scale: 'diverging', domain: [-m, m], valueLabel: 'score q·k', note: 'Linear attention: raw masked scores q·k (unnormalised, can be negative), diverging scale centred on 0, shared by both checkpoints.' };
  }
  return { scale: 'sequential', domain: [0, hi > 0 ? hi : 1], valueLabel: 'score q·k', note: 'Linear attention: raw masked scores q·k (unnormalised), scale 0 to the largest score over both checkpoints.' };
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
  return { values: p.values, rowLabels: [...tokens], colLabels: [...tokens], scale: s.scale, domain: s.domain, valueLabel: s.valueLabel, cell: cellSize(tokens.length) };
}

/** The CSV of the patterns shown: the attention analysis's table (src/shared/analyses/attention.ts), as `oocr analyze attention --format csv` writes it. */
export { ATTENTION_CSV_HEADER as CSV_HEADER, attentionCsv } from '../../../../shared/analyses/attention';

/** Labelled heatmaps laid out in a grid as one SVG body (vector cells), with its size. */
export function gridSvg(items: readonly { label: string; spec: HeatmapSpec }[], columns: number, theme: FigureTheme, gap = 12): { body: string; width: number; height: number } {
  const labelH = theme.fontSize + 6;
  const layouts = items.map((it) => heatmapLayout(it.spec, theme));
  const nRows = Math.ceil(items.length / columns);
  const colW = Array.from({ length: columns }, (_, c) => Math.max(0, ...layouts.filter((_, i) => i % columns === c).map((L) => L.totalWidth)));
  const rowH = Array.from({ length: nRows }, (_, r) => labelH + Math.max(0, ...layouts.slice(r * columns, (r + 1) * columns).map((L) => L.totalHeight)));
  const colX = colW.map((_, c) => colW.slice(0, c).reduce((a, w) => a + w + gap, 0));
  const rowY = rowH.map((_, r) => rowH.slice(0, r).reduce((a, h) => a + h + gap, 0));
  const parts = items.map((it, i) => {
    const x = colX[i % columns];
    const y = rowY[Math.floor(i / columns)];
    const L = layouts[i];
    return (
      `<g transform="translate(${x} ${y})">` +
      `<text x="${L.x0 + L.width / 2}" y="${theme.fontSize}" text-anchor="middle" font-weight="600">${escapeXml(it.label)}</text>` +
      `<g transform="translate(0 ${labelH})">${heatmapSvgBody(it.spec, theme)}</g></g>`
    );
  });
  const width = colW.reduce((a, w) => a + w, 0) + gap * (columns - 1);
  const height = rowH.reduce((a, h) => a + h, 0) + gap * (nRows - 1);
  return { body: parts.join(''), width: Math.max(width, 1), height: Math.max(height, 1) };
}

/** Default pair of checkpoints to compare: the first and the last. */
export function defaultSteps(checkpoints: readonly number[]): [number, number] | null {
  if (!checkpoints.length) return null;
  return [checkpoints[0], checkpoints[checkpoints.length - 1]];
}
