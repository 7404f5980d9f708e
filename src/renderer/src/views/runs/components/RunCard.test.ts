import { describe, expect, it } from 'vitest';
import { presetById, printTheme, svgBox } from '../../../figure/presets';
import { textWidth } from '../../../figure/text';
import { FIGURE_THEME } from '../../../figure/theme';
import type { DetailRow } from '../runsData';
import { runCardSvg } from './RunCard';

const ROWS: DetailRow[] = [
  { group: 'Run', key: 'status', value: 'completed' },
  { group: 'Run', key: 'checkpoints', value: '8 (steps 250, 500, 750, 1000, 1250, 1500, 1750, 2000)' },
  { group: 'Model', key: 'nLayers', value: '1' },
  { group: 'Final evaluation', key: 'test_impl_acc', value: '1.000 [0.998, 1.000] (n = 2400)' },
  { group: 'Final evaluation', key: 'questions', value: '2400 fresh sequences per split, never trained on (this run’s own draw) & <more>' },
];

describe('run card export', () => {
  for (const id of ['single', 'double'] as const) {
    it(`${id} column: laid out at the column's width, every line inside it, at the print type`, () => {
      const t = printTheme(FIGURE_THEME, presetById(id));
      const svg = runCardSvg(ROWS, t, 'Run ocr-factorized');
      const W = t.fitWidth as number;
      expect(svgBox(svg).width).toBe(Math.ceil(W));
      expect(svg).toContain(`font-size="${Math.round(t.fontSize * 100) / 100}"`);
      // Each text ends inside the figure (start-anchored text: x + its width).
      for (const m of svg.matchAll(/<text x="([\d.]+)" y="[\d.]+"(?: fill="[^"]*")?>([^<]*)<\/text>/g)) {
        const s = m[2].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
        expect(Number(m[1]) + textWidth(s, t.fontSize)).toBeLessThanOrEqual(W);
      }
      // Group headings, in the card's order, and the values escaped.
      expect([...svg.matchAll(/font-weight="600">([^<]+)</g)].map((m) => m[1]).slice(1)).toEqual(['Run', 'Final evaluation', 'Model']);
      expect(svg).toContain('&amp;');
    });
  }
  it('a single column wraps the long values; on screen the card is as wide as its longest line', () => {
    const single = runCardSvg(ROWS, printTheme(FIGURE_THEME, presetById('single')), 'Run x');
    expect(single).toContain('>2400 fresh sequences');
    expect(single).not.toContain('2400 fresh sequences per split, never trained on (this run’s own draw)');
    const screen = runCardSvg(ROWS, FIGURE_THEME, 'Run x');
    expect(screen).toContain('2400 fresh sequences per split, never trained on (this run’s own draw) &amp; &lt;more&gt;');
    expect(svgBox(screen).width).toBeLessThanOrEqual(48 * FIGURE_THEME.fontSize);
  });
});
