import { fontFaceCss, FIGURE_FONT_FAMILY } from './font';
import { physicalSize, svgBox, type ExportPreset } from './presets';
import { escapeXml, fitTitle, textWidth, typesetSvg, wrapText } from './text';
import type { FigureTheme } from './theme';

/**
 * Figure export: a standalone SVG (fonts and colours inlined, a background, a title and a legend
 * drawn in) and a PNG rasterised from that same SVG. `finishSvg` readies a document for a preset:
 * text typeset for the embedded font, the physical size, the font itself.
 */

export interface LegendEntry {
  label: string;
  colour: string;
  /** How the key is drawn: a filled box (default), a line, a dashed line, or the masked-cell hatch. */
  swatch?: 'box' | 'line' | 'dashed' | 'masked';
  /** A line swatch's own stroke-dasharray (a compared run's dotted or dash-dot style), overriding 'dashed'. */
  dasharray?: string;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export { escapeXml };

const n2 = (v: number): string => String(Math.round(v * 100) / 100);

/** The hatch pattern masked cells are filled with (grey ground, darker diagonal lines), as <defs>. */
export function maskedPatternDefs(id: string, ground: string, hatch: string, size = 6): string {
  return (
    `<defs><pattern id="${id}" patternUnits="userSpaceOnUse" width="${size}" height="${size}" patternTransform="rotate(45)">` +
    `<rect width="${size}" height="${size}" fill="${ground}"/><line x1="0" y1="0" x2="0" y2="${size}" stroke="${hatch}" stroke-width="${n2(size / 3)}"/></pattern></defs>`
  );
}

function swatchSvg(e: LegendEntry, x: number, y: number, s: number): string {
  const sw = e.swatch ?? 'box';
  if (sw === 'line' || sw === 'dashed')
    return `<line x1="${n2(x)}" y1="${n2(y + s / 2)}" x2="${n2(x + s * 1.6)}" y2="${n2(y + s / 2)}" stroke="${e.colour}" stroke-width="${n2(Math.max(1, s / 5))}"${e.dasharray ? ` stroke-dasharray="${e.dasharray}"` : sw === 'dashed' ? ` stroke-dasharray="${n2(s / 2)} ${n2(s / 3)}"` : ''}/>`;
  if (sw === 'masked') return `<rect x="${n2(x)}" y="${n2(y)}" width="${n2(s)}" height="${n2(s)}" fill="url(#legend-masked)" stroke="${e.colour}" stroke-width="0.5"/>`;
  return `<rect x="${n2(x)}" y="${n2(y)}" width="${n2(s)}" height="${n2(s)}" fill="${e.colour}"/>`;
}

/**
 * Legend entries flowed left to right and wrapped at `width` (measured in the figure font); an entry
 * wider than a row wraps its own text. Returns the markup and its height.
 */
export function legendSvg(entries: readonly LegendEntry[], theme: FigureTheme, x: number, y: number, width: number): { markup: string; height: number } {
  if (!entries.length) return { markup: '', height: 0 };
  const fs = theme.fontSize;
  const s = Math.round(fs * 0.85 * 100) / 100;
  const lineH = fs * 1.25;
  const gap = fs * 1.2;
  const parts: string[] = [];
  if (entries.some((e) => e.swatch === 'masked')) parts.push(maskedPatternDefs('legend-masked', '#d9d9d9', '#a6a6a6', Math.max(3, s / 2)));
  let cx = x;
  let cy = y;
  let rowH = lineH;
  for (const e of entries) {
    const swW = e.swatch === 'line' || e.swatch === 'dashed' ? s * 1.6 : s;
    const pad = swW + fs * 0.4;
    const lines = wrapText(e.label, Math.max(fs * 4, width - pad), fs);
    const textW = Math.max(...lines.map((l) => textWidth(l, fs)));
    const w = pad + textW;
    if (cx > x && cx + w > x + width) {
      cx = x;
      cy += rowH;
      rowH = lineH;
    }
    parts.push(swatchSvg(e, cx, cy + (lineH - s) / 2, s));
    lines.forEach((l, i) => parts.push(`<text x="${n2(cx + pad)}" y="${n2(cy + i * lineH + lineH / 2 + fs * 0.35)}">${escapeXml(l)}</text>`));
    rowH = Math.max(rowH, lines.length * lineH);
    cx += w + gap;
  }
  return { markup: `<g class="legend">${parts.join('')}</g>`, height: cy - y + rowH + fs * 0.4 };
}

/** The title block of a figure `width` wide: lines fitted to the width (wrapped or shrunk, never wider), and its height. */
export function titleSvg(title: string, theme: FigureTheme, width: number): { markup: string; height: number; lines: string[]; size: number } {
  const margin = Math.max(4, theme.titleSize * 0.5);
  const fit = fitTitle(title, Math.max(1, width - 2 * margin), theme.titleSize);
  const lineH = fit.size * 1.2;
  const markup = fit.lines
    .map((l, i) => `<text x="${n2(width / 2)}" y="${n2(fit.size + 2 + i * lineH)}" text-anchor="middle" font-size="${n2(fit.size)}" font-weight="600">${escapeXml(l)}</text>`)
    .join('');
  return { markup: `<g class="title">${markup}</g>`, height: fit.lines.length * lineH + fit.size * 0.45 + 2, lines: fit.lines, size: fit.size };
}

/**
 * Wraps an SVG body of size width×height into a standalone document with a background, the figure
 * font, an optional title above (fitted to the width) and an optional legend below.
 */
export function standaloneSvg(body: string, width: number, height: number, theme: FigureTheme, opts: { title?: string; legend?: readonly LegendEntry[] } = {}): string {
  const W = Math.ceil(width);
  const title = opts.title ? titleSvg(opts.title, theme, W) : null;
  const titleH = title ? Math.ceil(title.height) : 0;
  const pad = Math.min(12, theme.fontSize);
  const legend = legendSvg(opts.legend ?? [], theme, pad, titleH + height + 4, W - 2 * pad);
  const H = Math.ceil(titleH + height + legend.height);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="${SVG_NS}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${escapeXml(FIGURE_FONT_FAMILY)}" font-size="${n2(theme.fontSize)}" fill="${theme.foreground}">` +
    `<rect width="100%" height="100%" fill="${theme.background}"/>${title?.markup ?? ''}<g transform="translate(0 ${titleH})">${body}</g>${legend.markup}</svg>\n`
  );
}

/**
 * Readies a standalone SVG for a preset: text typeset for the figure font (scripts raised, symbols it
 * lacks spelled out), the physical size of a print preset, and the font embedded as WOFF2 data URIs
 * in an @font-face (only the subsets and weights the text uses), so it renders the same everywhere.
 */
export function finishSvg(svg: string, preset: ExportPreset, embedFont = true): string {
  let out = physicalSize(typesetSvg(svg), preset);
  if (embedFont) {
    const text = [...out.matchAll(/<text\b[^>]*>([\s\S]*?)<\/text>/g)].map((m) => m[1]).join(' ');
    const bold = /font-weight(="|:\s*)(600|700|bold)/.test(out);
    const css = fontFaceCss(text, bold);
    if (css) out = out.replace(/<svg\b[^>]*>/, (root) => `${root}<defs><style>${css}</style></defs>`);
  }
  return out;
}

/** Computed styles that decide how SVG text and shapes look; copied inline so the file stands alone. */
const INLINE_PROPS = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'opacity', 'fill-opacity', 'stroke-opacity', 'font-size', 'font-weight', 'text-anchor', 'dominant-baseline', 'visibility', 'display'];

/** Serialises a live <svg> (e.g. a recharts surface) into a standalone figure. */
export function svgElementToStandalone(svg: SVGSVGElement, theme: FigureTheme, opts: { title?: string; legend?: readonly LegendEntry[] } = {}): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = svg.querySelectorAll('*');
  const dst = clone.querySelectorAll('*');
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const out = dst[i] as SVGElement;
    for (const p of INLINE_PROPS) {
      const v = cs.getPropertyValue(p);
      if (v) out.style.setProperty(p, v);
    }
  });
  const box = svg.getBoundingClientRect();
  const width = Number(svg.getAttribute('width')) || box.width;
  const height = Number(svg.getAttribute('height')) || box.height;
  return standaloneSvg(clone.innerHTML, width, height, theme, opts);
}

/** Rasterises a standalone SVG document to PNG at `scale` pixels per layout unit (its viewBox). */
export async function svgToPng(svg: string, scale = 2): Promise<Blob> {
  const { width, height } = svgBox(svg);
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.decoding = 'sync';
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('export: the browser could not render the SVG'));
      img.src = url;
    });
    return await canvasToPng(width * scale, height * scale, (ctx) => ctx.drawImage(img, 0, 0, width * scale, height * scale));
  } finally {
    URL.revokeObjectURL(url);
  }
}

export async function canvasToPng(width: number, height: number, draw: (ctx: CanvasRenderingContext2D) => void): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width);
  canvas.height = Math.round(height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('export: no 2D canvas context');
  draw(ctx);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('export: PNG encoding failed'))), 'image/png'));
}

/** Hands a file to the user: a download in the browser; Electron shows its save dialog for it. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function saveText(text: string, filename: string, mime: string): void {
  saveBlob(new Blob([text], { type: mime }), filename);
}

/** A file-name-safe slug. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'figure';
}
