import { describe, expect, it } from 'vitest';
import { SCREEN_THEME } from '../../figure/theme';
import {
  attentionCsv,
  attentionScale,
  causallyMasked,
  cellSize,
  defaultSteps,
  gridColumns,
  gridSvg,
  headChoices,
  headPatterns,
  isSoftmax,
  patternSpec,
} from './attentionData';
import { linearAttentionEarly, linearAttentionLate, softmaxAttention } from './mocks/attention';

describe('headPatterns', () => {
  it('takes prompt 0 of every layer and head, head-major, labelled L{l}H{h}', () => {
    const ps = headPatterns(softmaxAttention);
    expect(ps.map((p) => p.label)).toEqual(['L0H0', 'L1H0', 'L0H1', 'L1H1']);
    expect(ps[2].values).toBe(softmaxAttention.layers[0].heads[1][0]);
    expect(ps[0].values).toHaveLength(6);
    expect(ps[0].values[0]).toHaveLength(6);
    expect(gridColumns(ps)).toBe(2);
  });

  it('filters by layer and/or head', () => {
    expect(headPatterns(softmaxAttention, { layer: 1, head: 'all' }).map((p) => p.label)).toEqual(['L1H0', 'L1H1']);
    expect(headPatterns(softmaxAttention, { layer: 'all', head: 1 }).map((p) => p.label)).toEqual(['L0H1', 'L1H1']);
    expect(headPatterns(softmaxAttention, { layer: 0, head: 0 }).map((p) => p.label)).toEqual(['L0H0']);
    expect(headPatterns(softmaxAttention, { layer: 7, head: 'all' })).toEqual([]);
    expect(gridColumns([])).toBe(1);
  });

  it('lists the layers and head count of both checkpoints', () => {
    expect(headChoices([softmaxAttention, undefined])).toEqual({ layers: [0, 1], nHeads: 2 });
    expect(headChoices([linearAttentionEarly])).toEqual({ layers: [0], nHeads: 1 });
    expect(headChoices([])).toEqual({ layers: [], nHeads: 0 });
  });
});

describe('attention scale', () => {
  it('softmax: fixed 0..1 sequential', () => {
    const s = attentionScale(true, headPatterns(softmaxAttention));
    expect(s.scale).toBe('sequential');
    expect(s.domain).toEqual([0, 1]);
  });

  it('linear with negative scores: diverging, symmetric, shared by both checkpoints', () => {
    const both = [...headPatterns(linearAttentionEarly), ...headPatterns(linearAttentionLate)];
    const s = attentionScale(false, both);
    expect(s.scale).toBe('diverging');
    const all = both.flatMap((p) => p.values.flat());
    const m = Math.max(...all.map(Math.abs));
    expect(s.domain).toEqual([-m, m]);
    // Early has the larger scores, so the late checkpoint alone would use a narrower scale.
    expect(attentionScale(false, headPatterns(linearAttentionLate)).domain[1]).toBeLessThan(m);
  });

  it('linear without negative scores: sequential from 0 to the largest score', () => {
    const s = attentionScale(false, [{ layer: 0, head: 0, label: 'L0H0', values: [[2, 0], [0.5, 3]] }]);
    expect(s).toMatchObject({ scale: 'sequential', domain: [0, 3] });
  });

  it('detects softmax from the config, else from the rows', () => {
    expect(isSoftmax('linear', [softmaxAttention])).toBe(false);
    expect(isSoftmax('softmax', [linearAttentionEarly])).toBe(true);
    expect(isSoftmax(undefined, [softmaxAttention])).toBe(true);
    expect(isSoftmax(undefined, [softmaxAttention, linearAttentionEarly])).toBe(false);
  });
});

describe('attention CSV', () => {
  it('writes one row per layer, head, query and key, with token names', () => {
    const ps = headPatterns(softmaxAttention, { layer: 0, head: 1 });
    const lines = attentionCsv(softmaxAttention.tokens, ps).trim().split('\n');
    expect(lines[0]).toBe('layer,head,query,query_token,key,key_token,weight');
    expect(lines).toHaveLength(1 + 36);
    const v = softmaxAttention.layers[0].heads[1][0][5][2];
    expect(lines[1 + 5 * 6 + 2]).toBe(`0,1,5,end,2,rel_dist,${v}`);
  });
});

describe('attention figure', () => {
  it('sizes cells by prompt length', () => {
    expect(cellSize(6)).toBe(26);
    expect(cellSize(8)).toBe(20);
    expect(cellSize(16)).toBe(16);
    expect(cellSize(60)).toBe(16);
  });

  it('composes every head into one SVG as small multiples: a column per layer, one shared colour bar', () => {
    const ps = headPatterns(softmaxAttention);
    const scale = attentionScale(true, ps);
    const items = ps.map((p) => ({ label: p.label, spec: patternSpec(p, softmaxAttention.tokens, scale) }));
    const g = gridSvg(items, gridColumns(ps), SCREEN_THEME);
    expect(g.body.match(/<g transform="translate\(/g)).toHaveLength(2 * items.length);
    for (const p of ps) expect(g.body).toContain(`>${p.label}</text>`);
    // Vector cells: one rect per unmasked cell of every head (3 tokens: 6 of 9 under the causal mask).
    const T = softmaxAttention.tokens.length;
    const cells = (g.body.match(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="\1" fill="(#[0-9a-f]{6}|rgb\([^)]*\))"\/>/g) ?? []).length;
    expect(cells).toBeGreaterThanOrEqual((items.length * T * (T + 1)) / 2);
    // Masked cells: one hatched path per head, and one key under the single colour bar.
    expect(g.body.match(/class="masked-cells"/g)).toHaveLength(items.length);
    expect(g.body.match(/class="masked-key"/g)).toHaveLength(1);
    expect(g.body.match(/>attention weight<\/text>/g)).toHaveLength(1);
    // Token labels only on the left column (rows) and the bottom row (columns).
    const tok = softmaxAttention.tokens[0];
    expect((g.body.match(new RegExp(`text-anchor="end"[^>]*>${tok}</text>`, 'g')) ?? []).length).toBeLessThanOrEqual(2 * 2);
    expect(g.body).toContain('translate(0 0)');
  });

  it('fits the grid to a print width', () => {
    const ps = headPatterns(softmaxAttention);
    const scale = attentionScale(true, ps);
    const items = ps.map((p) => ({ label: p.label, spec: patternSpec(p, softmaxAttention.tokens, scale) }));
    const single = gridSvg(items, gridColumns(ps), { ...SCREEN_THEME, fontSize: 10.67, fitWidth: 312 });
    expect(single.width).toBeCloseTo(312, 0);
    // Wider than its cells may grow (40 units at most): narrower than the column, never wider.
    const double = gridSvg(items, gridColumns(ps), { ...SCREEN_THEME, fontSize: 10.67, fitWidth: 648 });
    expect(double.width).toBeLessThanOrEqual(648);
    expect(double.body).toContain('width="40" height="40"');
  });

  it('marks the causal mask: later keys are masked, the diagonal and earlier ones are not', () => {
    expect(causallyMasked(0, 1)).toBe(true);
    expect(causallyMasked(1, 1)).toBe(false);
    expect(causallyMasked(2, 0)).toBe(false);
    expect(attentionScale(true, []).note).toMatch(/Hatched grey: masked/);
  });
});

describe('checkpoint steps', () => {
  it('defaults to the first and last checkpoint', () => {
    expect(defaultSteps([250, 500, 2000])).toEqual([250, 2000]);
    expect(defaultSteps([2500])).toEqual([2500, 2500]);
    expect(defaultSteps([])).toBeNull();
  });
});
