import { describe, expect, it } from 'vitest';
import { EXPORT_PRESETS, physicalSize, pngScale, presetById, presetPixelWidth, printTheme, svgBox, UNITS_PER_PT } from './presets';
import { FIGURE_FONT_FAMILY } from './font';
import { FIGURE_THEME, SCREEN_THEME } from './theme';

const single = presetById('single');
const double = presetById('double');
const screen = presetById('screen');

describe('export size presets', () => {
  it('are screen, single column (3.25 in) and double column (6.75 in)', () => {
    expect(EXPORT_PRESETS.map((p) => p.label)).toEqual(['screen', 'single column (3.25 in)', 'double column (6.75 in)']);
    expect(presetById('nonsense')).toBe(screen);
  });

  it('give PNGs the column width at 300 dpi', () => {
    expect(presetPixelWidth(single)).toBe(975);
    expect(presetPixelWidth(double)).toBe(2025);
    expect(presetPixelWidth(screen)).toBeNull();
    expect(pngScale(single, 312)).toBeCloseTo(975 / 312);
    expect(pngScale(screen, 312)).toBe(2);
  });

  it('lay figures out with 8 pt type, 9 pt titles and the column as the width to fit', () => {
    const t = printTheme(FIGURE_THEME, single);
    expect(t.fontSize / UNITS_PER_PT).toBeCloseTo(8);
    expect(t.titleSize / UNITS_PER_PT).toBeCloseTo(9);
    expect(t.fitWidth).toBeCloseTo(3.25 * 96);
    expect(t.fontFamily).toBe(FIGURE_FONT_FAMILY);
    expect(t.palette).toBe(FIGURE_THEME.palette);
    // A figure of fixed width w: type scaled so it still prints at 8 pt once the figure is 3.25 in wide.
    const k = 520 / (3.25 * 72);
    const fixed = printTheme(SCREEN_THEME, single, k);
    expect((fixed.fontSize * (3.25 * 72)) / 520).toBeCloseTo(8);
    expect(printTheme(SCREEN_THEME, screen)).toBe(SCREEN_THEME);
  });

  it('give SVGs the physical width in inches, the layout as viewBox, the height in proportion', () => {
    const doc = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="312" height="200" viewBox="0 0 312 200" font-size="10"><rect/></svg>';
    const out = physicalSize(doc, single);
    expect(out).toMatch(/^<\?xml[^]*<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="3.25in" height="2.0833in" viewBox="0 0 312 200" font-size="10">/);
    expect(svgBox(out)).toEqual({ width: 312, height: 200 });
    expect(physicalSize(doc, screen)).toBe(doc);
    expect(physicalSize(doc.replace(' viewBox="0 0 312 200"', ''), double)).toContain('width="6.75in" height="4.3269in" viewBox="0 0 312 200"');
  });
});
