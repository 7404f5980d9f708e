import { escapeXml } from './exportFigure';
import { colourOf, extent, type ColourScale, type FigureTheme } from './theme';

/** A matrix figure: values[row][col], [R][C], with one label per row and column. */
export interface HeatmapSpec {
  values: number[][];
  rowLabels: string[];
  colLabels: string[];
  scale: ColourScale;
  /** Colour domain (default: the values' extent; diverging scales centre it on 0). */
  domain?: [number, number];
  xLabel?: string;
  yLabel?: string;
  /** Text of the colour bar. */
  valueLabel?: string;
  /** Write each value in its cell (small matrices). */
  annotate?: boolean;
  /** Cell edge in px (default: fits ~320 px, between 10 and 44). */
  cell?: number;
}

export interface HeatmapLayout {
  cell: number;
  /** Plot area (the cells) inside the figure. */
  x0: number;
  y0: number;
  width: number;
  height: number;
  /** Whole figure. */
  totalWidth: number;
  totalHeight: number;
  domain: [number, number];
  colourBarX: number;
}

function textWidth(s: string, fontSize: number): number {
  return s.length * fontSize * 0.6;
}

export function heatmapLayout(spec: HeatmapSpec, theme: FigureTheme): HeatmapLayout {
  const R = spec.values.length;
  const C = R ? spec.values[0].length : 0;
  const cell = spec.cell ?? Math.max(10, Math.min(44, Math.floor(320 / Math.max(R, C, 1))));
  const fs = theme.fontSize;
  const rowLabelW = Math.max(0, ...spec.rowLabels.map((l) => textWidth(l, fs)));
  const colLabelH = Math.max(0, ...spec.colLabels.map((l) => textWidth(l, fs))) * 0.72 + fs;
  const x0 = 8 + (spec.yLabel ? fs + 8 : 0) + rowLabelW + 6;
  const y0 = 8;
  const width = C * cell;
  const height = R * cell;
  let domain = spec.domain ?? extent(spec.values);
  if (spec.scale === 'diverging' && !spec.domain) {
    const m = Math.max(Math.abs(domain[0]), Math.abs(domain[1])) || 1;
    domain = [-m, m];
  }
  const colourBarX = x0 + width + 16;
  const totalWidth = colourBarX + 14 + 8 + textWidth(fmt(domain[1]), fs) + 8 + (spec.valueLabel ? fs + 6 : 0);
  const totalHeight = y0 + Math.max(height + 6 + colLabelH, colourBarHeight(height, spec, theme) + fs) + (spec.xLabel ? fs + 10 : 0) + 4;
  return { cell, x0, y0, width, height, totalWidth, totalHeight, domain, colourBarX };
}

/** The colour bar spans the cells, but never less than its rotated label needs. */
function colourBarHeight(cellsHeight: number, spec: HeatmapSpec, theme: FigureTheme): number {
  return Math.max(cellsHeight, 60, spec.valueLabel ? textWidth(spec.valueLabel, theme.fontSize) + 12 : 0);
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e4)) return v.toExponential(1);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/**
 * The heatmap's vector markup (one <rect> per cell, axes, labels, colour bar): what the SVG export
 * writes. The on-screen component draws the cells on a canvas instead and reuses the axes.
 */
export function heatmapSvgBody(spec: HeatmapSpec, theme: FigureTheme, opts: { cells: boolean } = { cells: true }): string {
  const L = heatmapLayout(spec, theme);
  const fs = theme.fontSize;
  const out: string[] = [];
  if (opts.cells) {
    spec.values.forEach((row, r) =>
      row.forEach((v, c) => out.push(`<rect x="${L.x0 + c * L.cell}" y="${L.y0 + r * L.cell}" width="${L.cell}" height="${L.cell}" fill="${colourOf(spec.scale, L.domain, v)}"/>`)),
    );
    out.push(heatmapAnnotations(spec, theme));
  }
  out.push(`<rect x="${L.x0}" y="${L.y0}" width="${L.width}" height="${L.height}" fill="none" stroke="${theme.muted}" stroke-width="1"/>`);
  // Cells smaller than a line of text: label every k-th row/column so labels never overlap.
  const every = Math.max(1, Math.ceil((fs + 1) / L.cell));
  spec.rowLabels.forEach((l, r) => {
    if (r % every) return;
    out.push(`<text x="${L.x0 - 6}" y="${L.y0 + (r + 0.5) * L.cell + fs * 0.35}" text-anchor="end">${escapeXml(l)}</text>`);
  });
  spec.colLabels.forEach((l, c) => {
    if (c % every) return;
    const x = L.x0 + (c + 0.5) * L.cell;
    const y = L.y0 + L.height + 8;
    out.push(`<text x="${x}" y="${y}" text-anchor="end" dominant-baseline="middle" transform="rotate(-45 ${x} ${y})">${escapeXml(l)}</text>`);
  });
  if (spec.xLabel) out.push(`<text x="${L.x0 + L.width / 2}" y="${L.totalHeight - 6}" text-anchor="middle" fill="${theme.muted}">${escapeXml(spec.xLabel)}</text>`);
  if (spec.yLabel) {
    const x = 8 + fs;
    const y = L.y0 + L.height / 2;
    out.push(`<text x="${x}" y="${y}" text-anchor="middle" fill="${theme.muted}" transform="rotate(-90 ${x} ${y})">${escapeXml(spec.yLabel)}</text>`);
  }
  // Colour bar: 24 stops, top = high.
  const n = 24;
  const barH = colourBarHeight(L.height, spec, theme);
  for (let i = 0; i < n; i++) {
    const v = L.domain[1] - ((i + 0.5) / n) * (L.domain[1] - L.domain[0]);
    out.push(`<rect x="${L.colourBarX}" y="${L.y0 + (i * barH) / n}" width="14" height="${barH / n + 0.5}" fill="${colourOf(spec.scale, L.domain, v)}"/>`);
  }
  out.push(`<text x="${L.colourBarX + 20}" y="${L.y0 + fs * 0.8}">${escapeXml(fmt(L.domain[1]))}</text>`);
  out.push(`<text x="${L.colourBarX + 20}" y="${L.y0 + barH}">${escapeXml(fmt(L.domain[0]))}</text>`);
  if (spec.valueLabel) {
    const x = L.totalWidth - 8;
    const y = L.y0 + barH / 2;
    out.push(`<text x="${x}" y="${y}" text-anchor="middle" fill="${theme.muted}" transform="rotate(-90 ${x} ${y})">${escapeXml(spec.valueLabel)}</text>`);
  }
  return out.join('');
}

/** Each cell's value written in it (when `annotate` and cells are large enough to read). */
export function heatmapAnnotations(spec: HeatmapSpec, theme: FigureTheme): string {
  const L = heatmapLayout(spec, theme);
  if (!spec.annotate || L.cell < 22) return '';
  const fs = theme.fontSize;
  const out: string[] = [];
  spec.values.forEach((row, r) =>
    row.forEach((v, c) => {
      const t = spec.scale === 'sequential' ? (v - L.domain[0]) / (L.domain[1] - L.domain[0] || 1) : Math.abs(v) / (L.domain[1] || 1);
      // Dark ink on light cells: viridis is light at the top, RdBu at the centre.
      const ink = spec.scale === 'sequential' ? (t > 0.6 ? '#000' : '#fff') : t > 0.6 ? '#fff' : '#000';
      out.push(`<text x="${L.x0 + (c + 0.5) * L.cell}" y="${L.y0 + (r + 0.5) * L.cell + fs * 0.3}" text-anchor="middle" font-size="${Math.min(fs - 2, L.cell * 0.35)}" fill="${ink}">${escapeXml(fmt(v))}</text>`);
    }),
  );
  return out.join('');
}

/** CSV rows of a heatmap: one per cell. */
export function heatmapRows(spec: HeatmapSpec): (string | number)[][] {
  const rows: (string | number)[][] = [];
  spec.values.forEach((row, r) => row.forEach((v, c) => rows.push([r, spec.rowLabels[r], c, spec.colLabels[c], v])));
  return rows;
}
