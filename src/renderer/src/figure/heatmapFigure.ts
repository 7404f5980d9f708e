import { planTicks } from './axes';
import { escapeXml, maskedPatternDefs } from './exportFigure';
import { textWidth } from './text';
import { colourOf, MASKED_FILL, MASKED_HATCH, type ColourScale, type FigureTheme } from './theme';

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
  /**
   * Cells that hold no value by construction (e.g. attention to later tokens under a causal mask):
   * drawn hatched grey, never in the colour scale, and named in the key under the colour bar.
   */
  masked?: (row: number, col: number) => boolean;
  /** The key's text for masked cells (default "masked"). */
  maskedLabel?: string;
  /** Small multiples: draw the row / column labels (default both), and the colour bar (default true). */
  showRowLabels?: boolean;
  showColLabels?: boolean;
  colourBar?: boolean;
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
  colourBarWidth: number;
  colourBarHeight: number;
  /** Rows and columns whose labels are drawn, and the column labels' angle. */
  rowKeep: number[];
  colKeep: number[];
  colAngle: 0 | -45;
}

/** [min, max] over finite, unmasked entries (or [0, 1] when there are none). */
function specExtent(spec: HeatmapSpec): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  spec.values.forEach((row, r) =>
    row.forEach((v, c) => {
      if (!Number.isFinite(v) || spec.masked?.(r, c)) return;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }),
  );
  return lo <= hi ? [lo, hi] : [0, 1];
}

const SIN45 = Math.SQRT1_2;

/**
 * The heatmap's geometry. `theme.fitWidth` (print exports) sets the cell edge so the whole figure is
 * that wide (cells at most 40 units); otherwise the spec's cell, or one fitting ~320 px. Labels are
 * measured in the figure font: row labels thinned to every k-th when cells are shorter than a line,
 * column labels horizontal when they fit, else at −45° (thinned too when even that collides), with
 * room on the left for the first rotated label.
 */
export function heatmapLayout(spec: HeatmapSpec, theme: FigureTheme): HeatmapLayout {
  const R = spec.values.length;
  const C = R ? spec.values[0].length : 0;
  const fs = theme.fontSize;
  let domain = spec.domain ?? specExtent(spec);
  if (spec.scale === 'diverging' && !spec.domain) {
    const m = Math.max(Math.abs(domain[0]), Math.abs(domain[1])) || 1;
    domain = [-m, m];
  }
  const showRows = spec.showRowLabels !== false;
  const showCols = spec.showColLabels !== false;
  const rowW = showRows ? spec.rowLabels.map((l) => textWidth(l, fs)) : [];
  const colW = spec.colLabels.map((l) => (showCols ? textWidth(l, fs) : 0));
  const left0 = showRows ? 8 + (spec.yLabel ? fs * 1.4 : 0) + Math.max(0, ...rowW) + fs * 0.5 : 2;
  const colourBarWidth = Math.max(10, fs * 1.1);
  const right = spec.colourBar === false ? 2 : colourBarBlock(spec, theme, domain);

  const place = (cell: number) => {
    const rowEvery = Math.max(1, Math.ceil((fs * 1.15) / cell));
    const rowKeep = showRows ? spec.rowLabels.map((_, r) => r).filter((r) => r % rowEvery === 0) : [];
    const plan = !showCols ? { keep: [] as number[], angle: 0 as const } : planTicks(
      spec.colLabels.map((_, c) => (c + 0.5) * cell),
      colW,
      fs,
      { rotate: true, gap: fs * 0.4 },
    );
    // A rotated label runs down-left from under its column: it must not cross the figure's left edge.
    const overhang = plan.angle === 0 ? Math.max(0, ...plan.keep.map((c) => colW[c] / 2 - (c + 0.5) * cell)) : Math.max(0, ...plan.keep.map((c) => colW[c] * SIN45 + fs * 0.35 - (c + 0.5) * cell));
    const x0 = Math.max(left0, 4 + overhang);
    return { rowKeep, colKeep: plan.keep, colAngle: plan.angle, x0 };
  };

  let cell = spec.cell ?? Math.max(10, Math.min(44, Math.floor(320 / Math.max(R, C, 1))));
  let p = place(cell);
  if (theme.fitWidth && C > 0) {
    // Two passes: the left margin depends (a little) on the cell through the rotated labels.
    for (let i = 0; i < 2; i++) {
      cell = Math.max(1, Math.min(40, (theme.fitWidth - p.x0 - right) / C));
      p = place(cell);
    }
  }
  const x0 = p.x0;
  const y0 = 8;
  const width = C * cell;
  const height = R * cell;
  const colLabelH = !showCols ? 0 : p.colAngle === 0 ? fs * 1.3 : Math.max(0, ...p.colKeep.map((c) => colW[c])) * SIN45 + fs;
  const withBar = spec.colourBar !== false;
  const barH = withBar ? colourBarHeight(height, spec, theme) : 0;
  const maskKeyH = withBar && spec.masked ? fs * 1.6 : 0;
  const colourBarX = x0 + width + fs * 1.3;
  const totalWidth = x0 + width + right;
  const totalHeight = y0 + Math.max(height + 6 + colLabelH, withBar ? barH + fs + maskKeyH : 0) + (spec.xLabel ? fs * 1.6 : 0) + 4;
  return { cell, x0, y0, width, height, totalWidth, totalHeight, domain, colourBarX, colourBarWidth, colourBarHeight: barH, rowKeep: p.rowKeep, colKeep: p.colKeep, colAngle: p.colAngle };
}

/** Width of the colour bar and its labels, from the cells' right edge (the masked key included). */
export function colourBarBlock(spec: HeatmapSpec, theme: FigureTheme, domain: [number, number]): number {
  const fs = theme.fontSize;
  const barW = Math.max(10, fs * 1.1);
  const textW = Math.max(textWidth(fmt(domain[1]), fs), textWidth(fmt(domain[0]), fs), spec.masked ? textWidth(spec.maskedLabel ?? 'masked', fs) : 0);
  return fs * 1.3 + barW + fs * 0.5 + textW + fs * 0.5 + (spec.valueLabel ? fs * 1.4 : 0);
}

/** The colour bar spans the cells, but never less than its rotated label needs. */
export function colourBarHeight(cellsHeight: number, spec: HeatmapSpec, theme: FigureTheme): number {
  return Math.max(cellsHeight, theme.fontSize * 5, spec.valueLabel ? textWidth(spec.valueLabel, theme.fontSize) + 12 : 0);
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e4)) return v.toExponential(1);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const n2 = (v: number): string => String(Math.round(v * 100) / 100);

/** One path covering every masked cell (a rectangle per run of masked cells in a row), or ''. */
function maskedPath(spec: HeatmapSpec, L: HeatmapLayout): string {
  if (!spec.masked) return '';
  const d: string[] = [];
  spec.values.forEach((row, r) => {
    let c = 0;
    while (c < row.length) {
      if (!spec.masked?.(r, c)) {
        c++;
        continue;
      }
      const start = c;
      while (c < row.length && spec.masked(r, c)) c++;
      d.push(`M${n2(L.x0 + start * L.cell)} ${n2(L.y0 + r * L.cell)}h${n2((c - start) * L.cell)}v${n2(L.cell)}h${n2(-(c - start) * L.cell)}z`);
    }
  });
  return d.join('');
}

/**
 * Masked cells as one hatched path over the cells (grey ground, darker diagonals), with its pattern:
 * what both the export and the on-screen overlay draw. `id` names the pattern (unique per document).
 */
export function heatmapMaskMarkup(spec: HeatmapSpec, theme: FigureTheme, id = 'heatmap-masked'): string {
  const L = heatmapLayout(spec, theme);
  const d = maskedPath(spec, L);
  if (!d) return '';
  return `${maskedPatternDefs(id, MASKED_FILL, MASKED_HATCH, Math.max(3, Math.min(6, L.cell / 2)))}<path class="masked-cells" d="${d}" fill="url(#${id})"/>`;
}

/**
 * The heatmap's vector markup (one <rect> per cell, masked cells hatched, axes, labels, colour bar):
 * what the SVG export writes. The on-screen component draws the cells on a canvas instead and
 * reuses the axes. `idPrefix` keeps pattern ids unique when several heatmaps share one document.
 */
export function heatmapSvgBody(spec: HeatmapSpec, theme: FigureTheme, opts: { cells: boolean; idPrefix?: string } = { cells: true }): string {
  const L = heatmapLayout(spec, theme);
  const fs = theme.fontSize;
  const id = `${opts.idPrefix ?? 'heatmap'}-masked`;
  const out: string[] = [];
  if (opts.cells) {
    spec.values.forEach((row, r) =>
      row.forEach((v, c) => {
        if (spec.masked?.(r, c)) return;
        out.push(`<rect x="${n2(L.x0 + c * L.cell)}" y="${n2(L.y0 + r * L.cell)}" width="${n2(L.cell)}" height="${n2(L.cell)}" fill="${colourOf(spec.scale, L.domain, v)}"/>`);
      }),
    );
    out.push(heatmapMaskMarkup(spec, theme, id));
    out.push(heatmapAnnotations(spec, theme));
  }
  out.push(`<rect x="${n2(L.x0)}" y="${n2(L.y0)}" width="${n2(L.width)}" height="${n2(L.height)}" fill="none" stroke="${theme.muted}" stroke-width="1"/>`);
  for (const r of L.rowKeep) out.push(`<text x="${n2(L.x0 - fs * 0.5)}" y="${n2(L.y0 + (r + 0.5) * L.cell + fs * 0.35)}" text-anchor="end">${escapeXml(spec.rowLabels[r])}</text>`);
  for (const c of L.colKeep) {
    const x = L.x0 + (c + 0.5) * L.cell;
    if (L.colAngle === 0) out.push(`<text x="${n2(x)}" y="${n2(L.y0 + L.height + 6 + fs * 0.9)}" text-anchor="middle">${escapeXml(spec.colLabels[c])}</text>`);
    else {
      const y = L.y0 + L.height + 6;
      out.push(`<text x="${n2(x)}" y="${n2(y)}" text-anchor="end" dominant-baseline="middle" transform="rotate(-45 ${n2(x)} ${n2(y)})">${escapeXml(spec.colLabels[c])}</text>`);
    }
  }
  if (spec.xLabel) out.push(`<text x="${n2(L.x0 + L.width / 2)}" y="${n2(L.totalHeight - 6)}" text-anchor="middle" fill="${theme.muted}">${escapeXml(spec.xLabel)}</text>`);
  if (spec.yLabel) {
    const x = 8 + fs;
    const y = L.y0 + L.height / 2;
    out.push(`<text x="${n2(x)}" y="${n2(y)}" text-anchor="middle" fill="${theme.muted}" transform="rotate(-90 ${n2(x)} ${n2(y)})">${escapeXml(spec.yLabel)}</text>`);
  }
  if (spec.colourBar !== false) out.push(colourBarSvg(spec, theme, L.domain, L.colourBarX, L.y0, L.colourBarHeight, L.totalWidth - fs * 0.6, id));
  return out.join('');
}

/**
 * A vertical colour bar at (x, y), `height` tall (24 stops, top = high), its end values beside it,
 * the masked-cell key under it when the spec has masked cells, and the value label rotated at
 * `labelX`.
 */
export function colourBarSvg(spec: HeatmapSpec, theme: FigureTheme, domain: [number, number], x: number, y: number, height: number, labelX: number, idPrefix = 'heatmap-masked'): string {
  const fs = theme.fontSize;
  const w = Math.max(10, fs * 1.1);
  const out: string[] = [];
  const n = 24;
  for (let i = 0; i < n; i++) {
    const v = domain[1] - ((i + 0.5) / n) * (domain[1] - domain[0]);
    out.push(`<rect x="${n2(x)}" y="${n2(y + (i * height) / n)}" width="${n2(w)}" height="${n2(height / n + 0.5)}" fill="${colourOf(spec.scale, domain, v)}"/>`);
  }
  const tx = x + w + fs * 0.5;
  out.push(`<text x="${n2(tx)}" y="${n2(y + fs * 0.8)}">${escapeXml(fmt(domain[1]))}</text>`);
  out.push(`<text x="${n2(tx)}" y="${n2(y + height)}">${escapeXml(fmt(domain[0]))}</text>`);
  if (spec.masked) {
    // The key for masked cells, under the colour bar: the same hatch, and its name.
    const ky = y + height + fs * 0.6;
    const kid = `${idPrefix}-key`;
    out.push(`${maskedPatternDefs(kid, MASKED_FILL, MASKED_HATCH, Math.max(3, w / 3))}<rect class="masked-key" x="${n2(x)}" y="${n2(ky)}" width="${n2(w)}" height="${n2(w)}" fill="url(#${kid})" stroke="${theme.muted}" stroke-width="0.5"/>`);
    out.push(`<text x="${n2(tx)}" y="${n2(ky + w / 2 + fs * 0.35)}">${escapeXml(spec.maskedLabel ?? 'masked')}</text>`);
  }
  if (spec.valueLabel) {
    const ly = y + height / 2;
    out.push(`<text x="${n2(labelX)}" y="${n2(ly)}" text-anchor="middle" fill="${theme.muted}" transform="rotate(-90 ${n2(labelX)} ${n2(ly)})">${escapeXml(spec.valueLabel)}</text>`);
  }
  return out.join('');
}

/**
 * A horizontal colour bar at (x, y), `width` long (low at the left), its end values under its ends
 * and the value label under its middle, and the masked-cell key to its right when the spec has
 * masked cells: the key of small multiples, under the grid. Returns the markup and its height.
 */
export function colourBarHorizontalSvg(spec: HeatmapSpec, theme: FigureTheme, domain: [number, number], x: number, y: number, width: number, idPrefix = 'heatmap-masked'): { markup: string; height: number } {
  const fs = theme.fontSize;
  const h = Math.max(6, fs * 0.9);
  const out: string[] = [];
  const n = 32;
  for (let i = 0; i < n; i++) {
    const v = domain[0] + ((i + 0.5) / n) * (domain[1] - domain[0]);
    out.push(`<rect x="${n2(x + (i * width) / n)}" y="${n2(y)}" width="${n2(width / n + 0.5)}" height="${n2(h)}" fill="${colourOf(spec.scale, domain, v)}"/>`);
  }
  const ty = y + h + fs * 1.05;
  out.push(`<text x="${n2(x)}" y="${n2(ty)}">${escapeXml(fmt(domain[0]))}</text>`);
  out.push(`<text x="${n2(x + width)}" y="${n2(ty)}" text-anchor="end">${escapeXml(fmt(domain[1]))}</text>`);
  if (spec.valueLabel) out.push(`<text x="${n2(x + width / 2)}" y="${n2(ty)}" text-anchor="middle" fill="${theme.muted}">${escapeXml(spec.valueLabel)}</text>`);
  if (spec.masked) {
    const kx = x + width + fs * 1.2;
    const kid = `${idPrefix}-key`;
    out.push(`${maskedPatternDefs(kid, MASKED_FILL, MASKED_HATCH, Math.max(3, h / 2))}<rect class="masked-key" x="${n2(kx)}" y="${n2(y)}" width="${n2(h * 1.4)}" height="${n2(h)}" fill="url(#${kid})" stroke="${theme.muted}" stroke-width="0.5"/>`);
    out.push(`<text x="${n2(kx + h * 1.4 + fs * 0.4)}" y="${n2(y + h / 2 + fs * 0.35)}">${escapeXml(spec.maskedLabel ?? 'masked')}</text>`);
  }
  return { markup: out.join(''), height: h + fs * 1.4 };
}

/** Width the masked key takes to the right of a horizontal colour bar (0 without masked cells). */
export function horizontalKeyWidth(spec: HeatmapSpec, theme: FigureTheme): number {
  const fs = theme.fontSize;
  return spec.masked ? fs * 1.2 + Math.max(6, fs * 0.9) * 1.4 + fs * 0.4 + textWidth(spec.maskedLabel ?? 'masked', fs) : 0;
}

/** Each cell's value written in it (when `annotate` and cells are large enough to read). */
export function heatmapAnnotations(spec: HeatmapSpec, theme: FigureTheme): string {
  const L = heatmapLayout(spec, theme);
  const fs = theme.fontSize;
  if (!spec.annotate || L.cell < fs * 1.8) return '';
  const out: string[] = [];
  spec.values.forEach((row, r) =>
    row.forEach((v, c) => {
      if (spec.masked?.(r, c)) return;
      const t = spec.scale === 'sequential' ? (v - L.domain[0]) / (L.domain[1] - L.domain[0] || 1) : Math.abs(v) / (L.domain[1] || 1);
      // Dark ink on light cells: viridis is light at the top, RdBu at the centre.
      const ink = spec.scale === 'sequential' ? (t > 0.6 ? '#000' : '#fff') : t > 0.6 ? '#fff' : '#000';
      out.push(`<text x="${n2(L.x0 + (c + 0.5) * L.cell)}" y="${n2(L.y0 + (r + 0.5) * L.cell + fs * 0.3)}" text-anchor="middle" font-size="${n2(Math.min(fs - 2, L.cell * 0.35))}" fill="${ink}">${escapeXml(fmt(v))}</text>`);
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
