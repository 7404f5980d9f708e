import { FIGURE_FONT_FAMILY } from './font';
import type { FigureTheme } from './theme';

/**
 * Export sizes. "screen" exports the figure as laid out on screen (SVG in px, PNG at 2×). The print
 * presets lay the figure out again for a journal column, with type in points: the SVG is as wide as
 * the column in inches (`width="3.25in"` with the layout's viewBox) and the PNG has the column's width
 * at 300 dpi (975 px for a single column).
 */

export type PresetId = 'screen' | 'single' | 'double';

export interface ExportPreset {
  id: PresetId;
  label: string;
  /** Physical width (in); null for screen. */
  widthIn: number | null;
}

export const EXPORT_PRESETS: readonly ExportPreset[] = [
  { id: 'screen', label: 'screen', widthIn: null },
  { id: 'single', label: 'single column (3.25 in)', widthIn: 3.25 },
  { id: 'double', label: 'double column (6.75 in)', widthIn: 6.75 },
];

export function presetById(id: string): ExportPreset {
  return EXPORT_PRESETS.find((p) => p.id === id) ?? EXPORT_PRESETS[0];
}

/** Print resolution of PNG exports. */
export const DPI = 300;
/** Type in print presets (pt): text and tick labels, titles. */
export const PRINT_FONT_PT = 8;
export const PRINT_TITLE_PT = 9;
/** Data lines in print presets (pt). */
export const PRINT_STROKE_PT = 1.25;
/** Layout units per point in print presets: CSS pixels (96 per inch), so the layout looks on screen as printed. */
export const UNITS_PER_PT = 96 / 72;
/** Screen preset: PNG pixels per layout unit. */
export const SCREEN_PNG_SCALE = 2;

/** PNG width in pixels of a print preset (inches × dpi); null for screen. */
export function presetPixelWidth(p: ExportPreset): number | null {
  return p.widthIn === null ? null : Math.round(p.widthIn * DPI);
}

/** The column width in points. */
export function presetWidthPt(p: ExportPreset): number {
  return (p.widthIn ?? 0) * 72;
}

/**
 * The theme a figure is laid out with for a print preset: the figure font, type in points and a
 * target width (`fitWidth`, the column in layout units), at `unitsPerPt` layout units per point.
 * A figure that fits its layout to `fitWidth` comes out with 8 pt type; for one of fixed width the
 * export asks again with unitsPerPt = its width / the column's width, so its type is 8 pt too.
 */
export function printTheme(base: FigureTheme, p: ExportPreset, unitsPerPt = UNITS_PER_PT): FigureTheme {
  if (p.widthIn === null) return base;
  const k = unitsPerPt;
  return {
    ...base,
    fontFamily: FIGURE_FONT_FAMILY,
    fontSize: PRINT_FONT_PT * k,
    titleSize: PRINT_TITLE_PT * k,
    strokeWidth: PRINT_STROKE_PT * k,
    fitWidth: presetWidthPt(p) * k,
    preset: p.id,
  };
}

const r4 = (v: number): string => String(Math.round(v * 10000) / 10000);

/** Width, height and viewBox of a standalone SVG's root (user units). */
export function svgBox(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0];
  if (!root) throw new Error('export: no <svg> root');
  const vb = /\sviewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*"/.exec(root);
  if (vb) return { width: Number(vb[1]), height: Number(vb[2]) };
  const w = /\swidth="([\d.]+)(px)?"/.exec(root);
  const h = /\sheight="([\d.]+)(px)?"/.exec(root);
  if (!w || !h) throw new Error('export: the SVG has no width/height');
  return { width: Number(w[1]), height: Number(h[1]) };
}

/**
 * Gives a standalone SVG the physical size of a print preset: `width="3.25in"`, the height in the
 * same proportion, the layout kept as the viewBox. Screen: unchanged.
 */
export function physicalSize(svg: string, p: ExportPreset): string {
  if (p.widthIn === null) return svg;
  const { width, height } = svgBox(svg);
  const hIn = (p.widthIn * height) / width;
  const size = `width="${r4(p.widthIn)}in" height="${r4(hIn)}in" viewBox="0 0 ${r4(width)} ${r4(height)}"`;
  return svg.replace(/<svg\b[^>]*>/, (root) => {
    const rest = root.replace(/\s(width|height|viewBox)="[^"]*"/g, '');
    // After the namespace declarations, so the root still starts `<svg xmlns=…`.
    return rest.replace(/^<svg((?:\s+xmlns(?::\w+)?="[^"]*")*)/, `<svg$1 ${size}`);
  });
}

/** PNG pixels per layout unit for a document `width` units wide. */
export function pngScale(p: ExportPreset, width: number): number {
  const px = presetPixelWidth(p);
  return px === null ? SCREEN_PNG_SCALE : px / width;
}
