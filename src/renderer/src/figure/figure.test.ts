import { describe, expect, it } from 'vitest';
import { escapeXml, legendSvg, slug, standaloneSvg } from './exportFigure';
import { fmt, heatmapAnnotations, heatmapLayout, heatmapRows, heatmapSvgBody, type HeatmapSpec } from './heatmapFigure';
import { colourOf, extent, FIGURE_THEME, rgbOf, SCREEN_THEME } from './theme';

const spec: HeatmapSpec = {
  values: [
    [0, 0.5, 1],
    [1, 0.25, 0],
  ],
  rowLabels: ['a', 'b<c'],
  colLabels: ['x', 'y', 'z'],
  scale: 'sequential',
  valueLabel: 'weight',
};

describe('heatmap figure', () => {
  it('draws one vector cell per value, labels escaped, and a colour bar', () => {
    const body = heatmapSvgBody(spec, SCREEN_THEME);
    const cellRects = body.match(/<rect [^>]*width="(\d+)" height="\1" fill="#[0-9a-f]{6}"\/>/g) ?? [];
    expect(cellRects.length).toBe(6);
    expect(body).toContain('b&lt;c');
    expect(body).not.toContain('b<c');
    // Colour-bar stops run from the domain's top (yellow in viridis) to its bottom (purple).
    expect(body).toContain(colourOf('sequential', [0, 1], 1 - 0.5 / 24));
  });

  it('axes-only markup has no cells (the canvas draws them on screen)', () => {
    const axes = heatmapSvgBody(spec, SCREEN_THEME, { cells: false });
    expect(axes.match(/<rect [^>]*fill="none"/g)).toHaveLength(1);
    expect(axes).not.toContain(`fill="${colourOf('sequential', [0, 1], 0.5)}"/><rect x="${heatmapLayout(spec, SCREEN_THEME).x0}`);
  });

  it('centres a diverging domain on 0 and fits the figure around its parts', () => {
    const d = heatmapLayout({ ...spec, scale: 'diverging', values: [[-0.2, 0.8]], rowLabels: ['r'], colLabels: ['p', 'q'] }, FIGURE_THEME);
    expect(d.domain).toEqual([-0.8, 0.8]);
    expect(d.totalWidth).toBeGreaterThan(d.colourBarX + 14);
    expect(d.totalHeight).toBeGreaterThan(d.y0 + d.height);
  });

  it('annotates only when asked and when cells are large enough', () => {
    expect(heatmapAnnotations(spec, SCREEN_THEME)).toBe('');
    expect(heatmapAnnotations({ ...spec, annotate: true, cell: 30 }, SCREEN_THEME).match(/<text/g)).toHaveLength(6);
    expect(heatmapAnnotations({ ...spec, annotate: true, cell: 12 }, SCREEN_THEME)).toBe('');
  });

  it('lists every cell as a CSV row', () => {
    expect(heatmapRows(spec)).toEqual([
      [0, 'a', 0, 'x', 0],
      [0, 'a', 1, 'y', 0.5],
      [0, 'a', 2, 'z', 1],
      [1, 'b<c', 0, 'x', 1],
      [1, 'b<c', 1, 'y', 0.25],
      [1, 'b<c', 2, 'z', 0],
    ]);
  });
});

describe('standalone SVG', () => {
  it('is a complete document with size, background, title and legend', () => {
    const svg = standaloneSvg('<circle r="1"/>', 200, 100, FIGURE_THEME, { title: 'A & B', legend: [{ label: 'head 0', colour: '#0072B2' }] });
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toMatch(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="200" height="\d+"/);
    expect(svg).toContain('A &amp; B');
    expect(svg).toContain('head 0');
    expect(svg).toContain(`font-family="${FIGURE_THEME.fontFamily}"`);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });

  it('wraps legend entries into rows that fit the width', () => {
    const entries = Array.from({ length: 6 }, (_, i) => ({ label: `series ${i}`, colour: '#000' }));
    expect(legendSvg(entries, SCREEN_THEME, 0, 0, 200).height).toBeGreaterThan(legendSvg(entries, SCREEN_THEME, 0, 0, 1000).height);
    expect(legendSvg([], SCREEN_THEME, 0, 0, 100)).toEqual({ markup: '', height: 0 });
  });

  it('escapes XML and slugs file names', () => {
    expect(escapeXml(`<a b="c">&'`)).toBe('&lt;a b=&quot;c&quot;&gt;&amp;&apos;');
    expect(slug('LoRA vs Steering: |cos|')).toBe('lora-vs-steering-cos');
    expect(slug('***')).toBe('figure');
  });
});

describe('colours and numbers', () => {
  it('maps values into the scales and parses both colour notations', () => {
    expect(rgbOf(colourOf('sequential', [0, 1], 0))).toEqual([68, 1, 84]);
    expect(rgbOf(colourOf('diverging', [-1, 1], 0))).toEqual(rgbOf(colourOf('diverging', [-5, 5], 0)));
    expect(rgbOf('rgb(1, 2, 3)')).toEqual([1, 2, 3]);
    expect(colourOf('sequential', [0, 1], NaN)).toBe('#999999');
    expect(extent([[NaN, 2], [-1, Infinity]])).toEqual([-1, 2]);
    expect(extent([])).toEqual([0, 1]);
  });

  it('formats values compactly', () => {
    expect(fmt(0.123456)).toBe('0.12');
    expect(fmt(12.34)).toBe('12.3');
    expect(fmt(555.4)).toBe('555');
    expect(fmt(0.001)).toBe('1.0e-3');
    expect(fmt(0)).toBe('0.00');
  });
});
