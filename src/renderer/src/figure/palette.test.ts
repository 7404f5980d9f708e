import { describe, expect, it } from 'vitest';
import { contrastRatio, FIGURE_THEME, PALETTE, rgbOf, SCREEN_THEME } from './theme';

/** sRGB → linear. */
const lin = (c: number) => {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
};
/** Machado, Oliveira & Fernandes (2009), severity 1, on linear RGB. */
const CVD: Record<string, number[][]> = {
  protanopia: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
  deuteranopia: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
  tritanopia: [
    [1.255528, -0.076749, -0.178779],
    [-0.078411, 0.930809, 0.147602],
    [0.004733, 0.691367, 0.3039],
  ],
};
function lab(colour: string, m?: number[][]): number[] {
  let v = rgbOf(colour).map(lin);
  if (m) v = m.map((row) => Math.min(1, Math.max(0, row[0] * v[0] + row[1] * v[1] + row[2] * v[2])));
  const [r, g, b] = v;
  const X = 0.4124 * r + 0.3576 * g + 0.1805 * b;
  const Y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const Z = 0.0193 * r + 0.1192 * g + 0.9505 * b;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const [fx, fy, fz] = [f(X / 0.95047), f(Y), f(Z / 1.08883)];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}
const deltaE = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

describe('figure palette', () => {
  it('is the palette of both themes', () => {
    expect(SCREEN_THEME.palette).toBe(PALETTE);
    expect(FIGURE_THEME.palette).toBe(PALETTE);
  });

  it('has no colour under 3:1 against white (lines stay legible on paper)', () => {
    for (const c of PALETTE) expect(contrastRatio(c, '#ffffff'), c).toBeGreaterThanOrEqual(3);
    expect(PALETTE.map((c) => c.toUpperCase())).not.toContain('#F0E442');
    expect(contrastRatio('#F0E442', '#ffffff')).toBeLessThan(3);
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21);
  });

  it('keeps the first six colours apart for trichromats and under each simulated colour-vision deficiency', () => {
    const first = PALETTE.slice(0, 6);
    for (const m of [undefined, ...Object.values(CVD)])
      for (let i = 0; i < first.length; i++)
        for (let j = i + 1; j < first.length; j++) expect(deltaE(lab(first[i], m), lab(first[j], m)), `${first[i]} / ${first[j]}`).toBeGreaterThanOrEqual(15);
    // All eight stay apart too, if less so.
    for (const m of [undefined, ...Object.values(CVD)])
      for (let i = 0; i < PALETTE.length; i++) for (let j = i + 1; j < PALETTE.length; j++) expect(deltaE(lab(PALETTE[i], m), lab(PALETTE[j], m))).toBeGreaterThanOrEqual(10);
  });

  it('keeps blue and vermillion at 0 and 5 (views pair them as raises / lowers)', () => {
    expect(PALETTE[0]).toBe('#0072B2');
    expect(PALETTE[5]).toBe('#D55E00');
  });
});
