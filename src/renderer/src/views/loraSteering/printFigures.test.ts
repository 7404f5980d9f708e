import { describe, expect, it } from 'vitest';
import { heatmapLayout } from '../../figure/heatmapFigure';
import { presetById, printTheme, svgBox } from '../../figure/presets';
import { textWidth } from '../../figure/text';
import { FIGURE_THEME } from '../../figure/theme';
import { markLabelPosition } from './components/LogLinesChart';
import { cosMatrix, tokenCosRows, type CosMatrix } from './loraSteeringData';
import { REAL_STUDY } from './mocks/realStudy';
import { cosHeatmapSpec, cosHeatmapSvg, tokenCosLayout, tokenCosSvg } from './printFigures';

const single = printTheme(FIGURE_THEME, presetById('single'));
const double = printTheme(FIGURE_THEME, presetById('double'));

/** A 48-token matrix like the real study's (24 training-prompt tokens, then 24 of unrelated text). */
function matrix48(): CosMatrix {
  const n = 48;
  const labels = Array.from({ length: n }, (_, i) => (i < 24 ? `train:country_${i}@${i % 6}` : `unrelated:rel_language_${i}@${i % 6}`));
  const values = labels.map((_, r) => labels.map((__, c) => (r === c ? 1 : ((r * 7 + c * 3) % 10) / 10)));
  return cosMatrix({ ...REAL_STUDY, cos_matrix: { labels, values } });
}

describe('|cos| matrix for print', () => {
  it('on screen: full row labels and cells a line tall; for a column: ids as row labels and cells fitted to it', () => {
    const m = matrix48();
    const screen = cosHeatmapSpec(m, FIGURE_THEME);
    expect(screen.rowLabels[0]).toBe('T1 country_0@0');
    expect(screen.cell).toBe(14);
    const print = cosHeatmapSpec(m, single);
    expect(print.rowLabels).toEqual(m.colLabels);
    expect(print.cell).toBeUndefined();
    const L = heatmapLayout(print, single);
    // As wide as the column (within the heatmap's rounding), so it prints at 8 pt, not scaled down from 914 units.
    expect(L.totalWidth).toBeLessThanOrEqual((single.fitWidth as number) + 1);
    expect(L.totalWidth).toBeGreaterThan((single.fitWidth as number) * 0.94);
    // Labels thinned to what fits: every row and column still has a cell, not every one a label.
    expect(L.rowKeep.length).toBeLessThan(48);
    expect(L.colKeep.length).toBeLessThan(48);
    expect(L.rowKeep.length).toBeGreaterThan(4);
  });
  it('the exported SVG has the column width, the split lines, and the ids', () => {
    const svg = cosHeatmapSvg(matrix48(), single, '|cos| between per-token LoRA deltas');
    expect(svgBox(svg).width).toBeCloseTo(single.fitWidth as number, -1);
    expect((svg.match(/stroke="#ffffff"/g) ?? []).length).toBe(2);
    expect(svg).toContain('>T1</text>');
    expect(svg).not.toContain('country_0@0');
  });
});

describe('per-token cosine for print', () => {
  // 48 tokens with labels as long as the example study's (the case that printed small).
  const labels = Array.from({ length: 48 }, (_, i) => (i < 24 ? `train:codename_${i % 4}@${i % 6}` : `unrelated:rel_language_${i % 3}@${i % 6}`));
  const chart = tokenCosRows({ ...REAL_STUDY, delta_cos_trained: { labels, values: labels.map((_, i) => Math.cos(i)), mean: { train: 0.5, unrelated: 0.2, all: 0.35 } } });
  it('one bar per token, two sets', () => {
    expect(chart.rows.length).toBe(48);
    expect(chart.series.map((s) => s.label)).toEqual(['training prompts', 'unrelated text']);
  });
  for (const [name, theme] of [
    ['single', single],
    ['double', double],
  ] as const) {
    it(`${name} column: the column's width, labels thinned at −45° inside the figure, the legend below them`, () => {
      const W = theme.fitWidth as number;
      const L = tokenCosLayout(chart, theme, W);
      expect(L.width).toBe(Math.ceil(W));
      expect(L.angle).toBe(-45);
      expect(L.keep.length).toBeLessThan(chart.rows.length);
      expect(L.keep[0]).toBe(0);
      const band = L.plotWidth / chart.rows.length;
      const fs = theme.fontSize;
      for (const i of L.keep) {
        const w = textWidth(String(chart.rows[i].token), fs);
        const x = L.x0 + (i + 0.5) * band;
        // A rotated label runs down-left from its bar: inside the figure on the left, and above its bottom.
        expect(x - w * Math.SQRT1_2 - fs * 0.35).toBeGreaterThanOrEqual(0);
        expect(L.y0 + L.plotHeight + 6 + w * Math.SQRT1_2 + fs * 0.35).toBeLessThanOrEqual(L.height);
      }
      // Neighbouring kept labels are a line apart across their baselines.
      for (let j = 1; j < L.keep.length; j++) expect((L.keep[j] - L.keep[j - 1]) * band * Math.SQRT1_2).toBeGreaterThanOrEqual(fs * 1.2 - 1e-9);
      const svg = tokenCosSvg(chart, theme, { title: 'Per-token cosine with the trained vector', width: 762, legend: [{ label: 'training prompts', colour: '#0072B2' }] });
      expect(svgBox(svg).width).toBe(Math.ceil(W));
      // The legend starts under the body (title + chart), labels included.
      const legendY = Number(/<g class="legend">(?:<rect|<line) [^>]*y="([\d.]+)"/.exec(svg)?.[1]);
      const bodyTop = Number(/<g transform="translate\(0 ([\d.]+)\)">/.exec(svg)?.[1]);
      expect(legendY).toBeGreaterThanOrEqual(bodyTop + L.height);
      expect((svg.match(/<rect [^>]*fill="#/g) ?? []).length).toBeGreaterThanOrEqual(chart.rows.length);
    });
  }
  it('on screen (no column), it keeps the width it is given', () => {
    expect(tokenCosLayout(chart, FIGURE_THEME, 762).width).toBe(762);
  });
});

describe('marker labels', () => {
  it('beside the line on the side with room: right of a marker at the axis start (the hook at layer 0), left of one at the end', () => {
    expect(markLabelPosition(0, [0, 1])).toBe('insideTopLeft');
    expect(markLabelPosition(1, [0, 1])).toBe('insideTopRight');
    expect(markLabelPosition(6, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])).toBe('insideTopRight');
    expect(markLabelPosition(8.5, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])).toBe('insideTopRight');
    expect(markLabelPosition(2, [])).toBe('insideTopRight');
  });
});
