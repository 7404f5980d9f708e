import { describe, expect, it } from 'vitest';
import { escapeXml, finishSvg, legendSvg, slug, standaloneSvg, titleSvg } from './exportFigure';
import { fmt, heatmapAnnotations, heatmapLayout, heatmapRows, heatmapSvgBody, type HeatmapSpec } from './heatmapFigure';
import { FIGURE_FONT_FAMILY } from './font';
import { presetById, printTheme } from './presets';
import { textWidth } from './text';
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
    expect(svg).toContain(`font-family="${escapeXml(FIGURE_FONT_FAMILY)}"`);
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

describe('print-quality figures', () => {
  const long = 'Attention of lora-vs-steering/lora, step 2000 (rows: query, columns: key), a title much wider than the figure';

  it('never draws a title line wider than the figure', () => {
    for (const theme of [SCREEN_THEME, FIGURE_THEME, printTheme(FIGURE_THEME, presetById('single'))])
      for (const width of [150, 312, 520]) {
        const svg = standaloneSvg('', width, 100, theme, { title: long });
        const lines = [...svg.matchAll(/<text [^>]*font-size="([\d.]+)" font-weight="600">([^<]*)<\/text>/g)];
        expect(lines.length).toBeGreaterThan(0);
        for (const [, size, text] of lines) expect(textWidth(text, Number(size), 600)).toBeLessThanOrEqual(width);
        expect(lines.map((m) => m[2]).join(' ')).toBe(long);
      }
    const t = titleSvg('Short title', FIGURE_THEME, 400);
    expect(t.lines).toEqual(['Short title']);
    expect(t.size).toBe(FIGURE_THEME.titleSize);
  });

  it('wraps legend rows at the figure width, in the figure font', () => {
    const entries = ['held-out implications', 'training facts', 'held-out facts', 'training implications'].map((label) => ({ label, colour: '#000', swatch: 'line' as const }));
    const lg = legendSvg(entries, FIGURE_THEME, 0, 0, 200);
    const texts = [...lg.markup.matchAll(/<text x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)];
    for (const [, x, text] of texts) expect(Number(x) + textWidth(text, FIGURE_THEME.fontSize)).toBeLessThanOrEqual(200 + 1e-6);
    expect(lg.markup).toContain('<line ');
  });

  it('readies SVGs for a preset: typeset, physical size, the font embedded', () => {
    const doc = standaloneSvg('<text>10⁻³ σₖ</text>', 312, 100, FIGURE_THEME, { title: 'Δ' });
    const out = finishSvg(doc, presetById('single'));
    expect(out).toMatch(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="3.25in" height="[\d.]+in" viewBox="0 0 312 \d+"/);
    expect(out).toContain('<style>@font-face{font-family:Arimo;');
    expect(out).toMatch(/src:url\(data:font\/woff2;base64,[A-Za-z0-9+/=]{1000,}\) format\('woff2'\)/);
    // Greek text and a bold title: the greek subset and weight 600 too.
    expect(out.match(/@font-face/g)).toHaveLength(4);
    expect(out).toContain('<tspan dy="-0.5em" font-size="70%">−3</tspan>');
    const plain = finishSvg(standaloneSvg('<text>abc</text>', 100, 50, SCREEN_THEME), presetById('screen'));
    expect(plain.match(/@font-face/g)).toHaveLength(1);
    expect(plain).toContain('width="100"');
  });

  it('draws masked heatmap cells hatched grey, not in the colour scale, with a key', () => {
    const masked: HeatmapSpec = { ...spec, values: [[0.5, 0], [0.25, 0.75]], colLabels: ['x', 'y'], masked: (r, c) => c > r, maskedLabel: 'masked (causal)' };
    const body = heatmapSvgBody(masked, SCREEN_THEME);
    expect(body).toContain('class="masked-cells"');
    expect(body).toMatch(/<pattern id="heatmap-masked"[^>]*>.*#d9d9d9/);
    expect(body).toMatch(/<path class="masked-cells" d="M[^"]+z" fill="url\(#heatmap-masked\)"\/>/);
    expect(body).toContain('>masked (causal)</text>');
    // Three colour-scale cells; the masked one is not a zero-coloured rect.
    const cells = body.match(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="\1" fill="[^"]+"\/>/g) ?? [];
    expect(cells.filter((c) => !c.includes('url(')).length).toBe(3);
    // The domain ignores masked cells (their stored 0).
    expect(heatmapLayout({ ...masked, domain: undefined, values: [[0.5, 0], [0.25, 0.75]] }, SCREEN_THEME).domain).toEqual([0.25, 0.75]);
  });

  it('thins and rotates labels so none overlaps, and fits a print width', () => {
    const T = 40;
    const tokens = Array.from({ length: T }, (_, i) => `token_${i}`);
    const big: HeatmapSpec = { values: tokens.map(() => tokens.map(() => 0.5)), rowLabels: tokens, colLabels: tokens, scale: 'sequential', valueLabel: 'weight' };
    const theme = printTheme(FIGURE_THEME, presetById('single'));
    const L = heatmapLayout(big, theme);
    expect(L.totalWidth).toBeCloseTo(theme.fitWidth as number, 0);
    expect(L.colAngle).toBe(-45);
    // Rotated neighbours at least a line apart across their baselines; rows a line apart.
    for (let j = 1; j < L.colKeep.length; j++) expect((L.colKeep[j] - L.colKeep[j - 1]) * L.cell * Math.SQRT1_2).toBeGreaterThanOrEqual(theme.fontSize * 1.2 - 1e-9);
    for (let j = 1; j < L.rowKeep.length; j++) expect((L.rowKeep[j] - L.rowKeep[j - 1]) * L.cell).toBeGreaterThanOrEqual(theme.fontSize * 1.15 - 1e-9);
    // The first rotated label stays inside the figure.
    expect(L.x0 + 0.5 * L.cell - textWidth(tokens[0], theme.fontSize) * Math.SQRT1_2).toBeGreaterThanOrEqual(0);
    // Few wide cells: labels flat.
    expect(heatmapLayout({ ...spec, cell: 44 }, SCREEN_THEME).colAngle).toBe(0);
  });
});

describe('exported legend line styles', () => {
  it('draw a compared run’s own dash pattern, not the generic dash', async () => {
    const { curveLegend } = await import('./StepChart');
    const { keySeries, dashArray } = await import('./curves');
    const series = keySeries([
      { label: 'loss · a', group: 'loss', run: 'a', colourIndex: 0, dashed: false, lineStyle: 0, points: [{ step: 1, value: 1 }] },
      { label: 'loss · b', group: 'loss', run: 'b', colourIndex: 0, dashed: true, lineStyle: 2, points: [{ step: 1, value: 1 }] },
    ]);
    const theme = { fontSize: 10, foreground: '#000', muted: '#888', background: '#fff', palette: ['#0072b2'] } as unknown as Parameters<typeof curveLegend>[1];
    const legend = curveLegend(series, theme);
    const dotted = legend.find((e) => /dotted/.test(e.label));
    expect(dotted?.dasharray).toBe(dashArray(2, 10));
    expect(legend.find((e) => /solid/.test(e.label))?.dasharray).toBeUndefined();
  });
});
