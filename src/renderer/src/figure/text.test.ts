import { describe, expect, it } from 'vitest';
import { fitTitle, fontCovers, textWidth, TWIN_GLYPHS, typeset, typesetMarkup, typesetSvg, wrapText } from './text';

describe('figure font metrics', () => {
  it('are Arimo’s, i.e. Helvetica’s and Arial’s (1/1000 em)', () => {
    expect(textWidth('A', 1000)).toBeCloseTo(667, 0);
    expect(textWidth('0123456789', 100)).toBeCloseTo(556, 0);
    expect(textWidth('i', 1000)).toBeCloseTo(222, 0);
    expect(textWidth('A', 1000, 600)).toBeGreaterThan(textWidth('A', 1000));
    expect(textWidth('σ', 1000)).toBeCloseTo(617, 0);
    expect(textWidth('', 12)).toBe(0);
    expect(textWidth('held-out implications', 20)).toBeCloseTo(2 * textWidth('held-out implications', 10));
  });

  it('cover latin and greek, and nothing the export has to replace', () => {
    for (const ch of 'Aa0·−×…|σΔΣα') expect(fontCovers(ch.codePointAt(0) as number)).toBe(true);
    for (const ch of '→⁻ₖ‖') expect(fontCovers(ch.codePointAt(0) as number)).toBe(false);
    // After typesetting every character is one the font has, or one its metric twins draw (at known widths).
    for (const s of ['σₖ / σ₁', '10⁻⁸', '‖W_OV‖*', 'base → fine-tuned', 'rank ≤ 8, ≈ 0.5'])
      for (const r of typeset(s)) for (const ch of r.text) expect(fontCovers(ch.codePointAt(0) as number) || TWIN_GLYPHS[ch] !== undefined, `${s}: ${ch}`).toBe(true);
    expect(textWidth('→', 1000)).toBe(1000);
    expect(textWidth('≤', 1000)).toBe(549);
  });
});

describe('typesetting for the figure font', () => {
  it('raises superscripts and lowers subscripts at 70 %', () => {
    expect(typeset('10⁻⁸')).toEqual([
      { text: '10', shift: 'none' },
      { text: '−8', shift: 'super' },
    ]);
    expect(typeset('σₖ')).toEqual([
      { text: 'σ', shift: 'none' },
      { text: 'k', shift: 'sub' },
    ]);
    expect(textWidth('10⁻⁸', 10)).toBeCloseTo(textWidth('10', 10) + 0.7 * textWidth('−8', 10));
  });

  it('writes script runs as tspans that restore the baseline', () => {
    expect(typesetMarkup('plain <text>')).toBe('plain &lt;text&gt;');
    const m = typesetMarkup('σₖ / σ₁');
    expect(m).toBe('σ<tspan dy="0.286em" font-size="70%">k</tspan><tspan dy="-0.2em"> / σ</tspan><tspan dy="0.286em" font-size="70%">1</tspan>');
    expect(typesetMarkup('‖W‖ → x ≤ 1')).toBe('||W|| → x ≤ 1');
  });

  it('typesets the text of a whole SVG, inside tspans too, and leaves the rest alone', () => {
    const svg = '<svg><text x="1">10⁻³</text><text><tspan x="0" dy="0.7em">σₖ</tspan></text><rect width="2"/><text>a &amp; b</text></svg>';
    const out = typesetSvg(svg);
    expect(out).toContain('<text x="1">10<tspan dy="-0.5em" font-size="70%">−3</tspan></text>');
    expect(out).toContain('<tspan x="0" dy="0.7em">σ<tspan dy="0.286em" font-size="70%">k</tspan></tspan>');
    expect(out).toContain('<text>a &amp; b</text>');
    expect(out).toContain('<rect width="2"/>');
  });
});

describe('wrapping and title fitting', () => {
  const titles = [
    'Attention of lora-vs-steering/lora + adapter, step 2000 (rows: query, columns: key)',
    'Singular values of W_OV — ocr-factorized-r128, step 2000',
    '3D projection: lora-vs-steering/lora, blocks.0.hook_resid_post (PCA)',
    'Short',
    'averyveryverylongtokenwithoutanyspacesatallthatcannotbreakatawordboundary',
  ];

  it('never makes a line wider than the width', () => {
    for (const t of titles)
      for (const max of [60, 120, 300])
        for (const line of wrapText(t, max, 10.67)) expect(textWidth(line, 10.67)).toBeLessThanOrEqual(max + 1e-9);
  });

  it('keeps every word, in order', () => {
    for (const t of titles) expect(wrapText(t, 150, 12).join(' ').replace(/\s+/g, '')).toBe(t.replace(/\s+/g, ''));
  });

  it('fits titles: one line when it fits, else shrunk (not below 80 %) and wrapped, never wider than the figure', () => {
    expect(fitTitle('Short', 300, 12)).toEqual({ lines: ['Short'], size: 12 });
    const slightly = 'Accuracy by split over training';
    const w = textWidth(slightly, 12, 600);
    const f = fitTitle(slightly, w * 0.95, 12);
    expect(f.lines).toEqual([slightly]);
    expect(f.size).toBeLessThan(12);
    for (const t of titles)
      for (const max of [80, 200, 312, 648]) {
        const fit = fitTitle(t, max, 12);
        expect(fit.size).toBeGreaterThanOrEqual(12 * 0.8 - 1e-9);
        for (const line of fit.lines) expect(textWidth(line, fit.size, 600)).toBeLessThanOrEqual(max + 1e-9);
      }
  });
});
