import { createContext, useContext } from 'react';
import { interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic';
import { FIGURE_FONT_FAMILY } from './font';
import type { PresetId } from './presets';

/**
 * Colours and type for figures. Charts take concrete colours from here (not CSS variables) so an
 * exported SVG carries them and looks the same outside the app.
 */
export interface FigureTheme {
  name: 'screen' | 'figure';
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  fontFamily: string;
  fontSize: number;
  titleSize: number;
  strokeWidth: number;
  /** Categorical colours for lines and marks on white (colour-blind-safe, each ≥ 3:1 against white). */
  palette: string[];
  /**
   * Print exports: the width (layout units) the figure should fit, title, legend and labels included.
   * Figures that can size themselves (heatmaps, step charts, the 3D projection) do; the others keep
   * their width and the export scales them. Absent on screen.
   */
  fitWidth?: number;
  /** The export preset this theme lays a figure out for (absent on screen). */
  preset?: PresetId;
}

/**
 * Okabe–Ito's blue, bluish green, reddish purple, vermillion and black, with the colours that are too
 * light for lines on white (orange 2.2:1, sky blue 2.3:1, yellow #F0E442 1.3:1) replaced by a violet,
 * a brown and a grey, each at least 3:1 against white. Every pair of the first six stays apart under
 * simulated protanopia, deuteranopia and tritanopia (CIELAB ΔE ≥ 17; tested in palette.test.ts).
 * Index 0 (blue) and 5 (vermillion) keep their Okabe–Ito places: views pair them as +/−.
 */
export const PALETTE = ['#0072B2', '#7A33D6', '#009E73', '#CC79A7', '#000000', '#D55E00', '#663311', '#777777'];

/** Fill for cells that hold no value by construction (masked attention): a neutral grey, with a hatch in vector exports. */
export const MASKED_FILL = '#d9d9d9';
export const MASKED_HATCH = '#a6a6a6';

export const SCREEN_THEME: FigureTheme = {
  name: 'screen',
  background: '#ffffff',
  foreground: '#1f2328',
  muted: '#57606a',
  grid: '#d8dee4',
  fontFamily: FIGURE_FONT_FAMILY,
  fontSize: 12,
  titleSize: 13,
  strokeWidth: 1.5,
  palette: PALETTE,
};

/** The light theme for papers: larger type, heavier lines. */
export const FIGURE_THEME: FigureTheme = {
  name: 'figure',
  background: '#ffffff',
  foreground: '#000000',
  muted: '#333333',
  grid: '#e0e0e0',
  fontFamily: FIGURE_FONT_FAMILY,
  fontSize: 14,
  titleSize: 16,
  strokeWidth: 2.25,
  palette: PALETTE,
};

export const ThemeContext = createContext<FigureTheme>(SCREEN_THEME);

export function useFigureTheme(): FigureTheme {
  return useContext(ThemeContext);
}

export function seriesColour(theme: FigureTheme, i: number): string {
  return theme.palette[i % theme.palette.length];
}

export type ColourScale = 'sequential' | 'diverging';

/**
 * Maps a value to a colour. Sequential: viridis over [lo, hi]. Diverging: RdBu centred on 0 over
 * [−m, m] with m = max(|lo|, |hi|), blue for positive (restores / raises), red for negative.
 */
export function colourOf(scale: ColourScale, domain: [number, number], v: number): string {
  if (!Number.isFinite(v)) return '#999999';
  const [lo, hi] = domain;
  if (scale === 'sequential') {
    const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    return interpolateViridis(Math.min(1, Math.max(0, t)));
  }
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  return interpolateRdBu(Math.min(1, Math.max(0, 0.5 + v / (2 * m))));
}

/** [min, max] over finite entries of a matrix (or [0, 1] when there are none). */
export function extent(values: readonly (readonly number[])[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of values)
    for (const v of r) {
      if (!Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** [r, g, b] of a '#rrggbb' or 'rgb(r, g, b)' colour (what d3's interpolators return). */
export function rgbOf(colour: string): [number, number, number] {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (hex) return [parseInt(hex[1], 16), parseInt(hex[2], 16), parseInt(hex[3], 16)];
  const rgb = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(colour);
  if (rgb) return [+rgb[1], +rgb[2], +rgb[3]];
  return [153, 153, 153];
}

/** WCAG relative luminance of a colour. */
export function luminance(colour: string): number {
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = rgbOf(colour).map(lin);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours (1 … 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
