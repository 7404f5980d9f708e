import type { FigureTheme } from './theme';

/**
 * Figure export: a standalone SVG (fonts and colours inlined, a background, a title and a legend
 * drawn in) and a PNG rasterised from that same SVG at `scale`× (2 by default: crisp in print).
 */

export interface LegendEntry {
  label: string;
  colour: string;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Legend entries flowed left to right and wrapped at `width`; returns the markup and its height. */
export function legendSvg(entries: readonly LegendEntry[], theme: FigureTheme, x: number, y: number, width: number): { markup: string; height: number } {
  if (!entries.length) return { markup: '', height: 0 };
  const rowH = theme.fontSize + 6;
  const parts: string[] = [];
  let cx = x;
  let cy = y;
  for (const e of entries) {
    // Swatch, gap, text (estimated at 0.6 em per character), then a gap before the next entry.
    const w = 18 + e.label.length * theme.fontSize * 0.6 + 16;
    if (cx > x && cx + w > x + width) {
      cx = x;
      cy += rowH;
    }
    parts.push(`<rect x="${cx}" y="${cy + 2}" width="12" height="12" fill="${e.colour}"/><text x="${cx + 18}" y="${cy + 12}">${escapeXml(e.label)}</text>`);
    cx += w;
  }
  return { markup: `<g class="legend">${parts.join('')}</g>`, height: cy - y + rowH + 6 };
}

/**
 * Wraps an SVG body of size width×height into a standalone document with a background, the theme's
 * font, an optional title above and an optional legend below.
 */
export function standaloneSvg(body: string, width: number, height: number, theme: FigureTheme, opts: { title?: string; legend?: readonly LegendEntry[] } = {}): string {
  const titleH = opts.title ? theme.titleSize + 12 : 0;
  const legend = legendSvg(opts.legend ?? [], theme, 12, titleH + height + 4, width - 24);
  const W = Math.ceil(width);
  const H = Math.ceil(titleH + height + legend.height);
  const title = opts.title
    ? `<text x="${W / 2}" y="${theme.titleSize + 2}" text-anchor="middle" font-size="${theme.titleSize}" font-weight="600">${escapeXml(opts.title)}</text>`
    : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="${SVG_NS}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${escapeXml(theme.fontFamily)}" font-size="${theme.fontSize}" fill="${theme.foreground}">` +
    `<rect width="100%" height="100%" fill="${theme.background}"/>${title}<g transform="translate(0 ${titleH})">${body}</g>${legend.markup}</svg>\n`
  );
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

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  if (!m) throw new Error('export: the SVG has no width/height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Rasterises a standalone SVG document to PNG at `scale`× its size. */
export async function svgToPng(svg: string, scale = 2): Promise<Blob> {
  const { width, height } = svgSize(svg);
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
