import { createContext, useContext } from 'react';
import { interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic';

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
  /** Categorical colours (colour-blind-safe, Okabe–Ito order). */
  palette: string[];
}

const OKABE_ITO = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

export const SCREEN_THEME: FigureTheme = {
  name: 'screen',
  background: '#ffffff',
  foreground: '#1f2328',
  muted: '#57606a',
  grid: '#d8dee4',
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif",
  fontSize: 12,
  titleSize: 13,
  strokeWidth: 1.5,
  palette: OKABE_ITO,
};

/** The light theme for papers: larger type, heavier lines, a font every PDF viewer has. */
export const FIGURE_THEME: FigureTheme = {
  name: 'figure',
  background: '#ffffff',
  foreground: '#000000',
  muted: '#333333',
  grid: '#e0e0e0',
  fontFamily: 'Helvetica, Arial, sans-serif',
  fontSize: 14,
  titleSize: 16,
  strokeWidth: 2.25,
  palette: OKABE_ITO,
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
