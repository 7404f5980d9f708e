import { describe, expect, it } from 'vitest';
import type { LensAnalysis } from '../../../../shared/api';
import {
  dlaChartHeight,
  dlaCsv,
  dlaSummary,
  headPatchingCsv,
  headPatchingSpec,
  lensCsv,
  lensMatrix,
  lensRanks,
  lensRowLabel,
  lensTopK,
  patchingDomain,
  patchingSummary,
  residPatchingCsv,
  residPatchingSpec,
} from './lensPatchingData';
import { heatmapSvgBody } from '../../figure/heatmapFigure';
import { FIGURE_THEME } from '../../figure/theme';
import { worldLens, worldPatching } from './mocks/analyses';

const name = (t: number) => worldLens.vocab[t];

describe('logit lens matrix', () => {
  it('labels rows by depth and hook', () => {
    expect(lensRowLabel({ hook: 'blocks.0.hook_resid_pre', depth: 0 })).toBe('0: resid_pre 0');
    expect(lensRowLabel({ hook: 'blocks.1.hook_resid_post', depth: 2 })).toBe('2: resid_post 1');
    expect(lensMatrix(worldLens).spec.rowLabels).toEqual(['0: resid_pre 0', '1: resid_pre 1', '2: resid_post 1']);
  });

  it('puts the answer first, then the union of the top-k by highest probability', () => {
    const m = lensMatrix(worldLens);
    const cols = m.columns.map(name);
    expect(cols[0]).toBe('dist_1');
    expect(m.spec.colLabels[0]).toBe('dist_1 (answer)');
    expect(m.answerColumn).toBe(0);
    const union = new Set(worldLens.lens.hooks.flatMap((h) => h.prompts[0].top.map((t) => name(t.token))));
    expect(new Set(cols)).toEqual(new Set([...union, 'dist_1']));
    expect(cols).toHaveLength(new Set(cols).size);
    // After the answer, ordered by the best probability any hook gives them: dist_2 (0.66 at depth 0) leads.
    expect(cols[1]).toBe('dist_2');
  });

  it('reads probabilities from each hook, NaN where the hook’s top-k lacks the token', () => {
    const m = lensMatrix(worldLens);
    const col = (t: string) => m.columns.findIndex((c) => name(c) === t);
    const [h0, h1, h2] = worldLens.lens.hooks;
    // The answer at depth 0 is only known through the lens target (rank 61, far outside the top 5).
    expect(m.spec.values[0][0]).toBe(h0.prompts[0].target?.prob);
    expect(m.spec.values[1][0]).toBe(h1.prompts[0].top[0].prob);
    expect(m.spec.values[2][0]).toBe(h2.prompts[0].target?.prob);
    expect(m.spec.values[0][col('dist_2')]).toBe(h0.prompts[0].top[0].prob);
    expect(m.spec.values[1][col('dist_2')]).toBeNaN();
    expect(m.spec.scale).toBe('sequential');
    expect(m.spec.domain).toEqual([0, Math.max(...m.spec.values.flat().filter(Number.isFinite))]);
    expect(m.spec.values.every((r) => r.length === m.columns.length)).toBe(true);
  });

  it('marks the cells outside a hook’s top k as masked (hatched, keyed “not in top k”), not as a colour', () => {
    const m = lensMatrix(worldLens);
    const k = lensTopK(worldLens);
    expect(k).toBe(worldLens.lens.hooks[0].prompts[0].top.length);
    expect(m.spec.maskedLabel).toBe(`not in top ${k}`);
    const masked = m.spec.masked as (r: number, c: number) => boolean;
    let n = 0;
    m.spec.values.forEach((row, r) =>
      row.forEach((v, c) => {
        expect(masked(r, c)).toBe(!Number.isFinite(v));
        if (masked(r, c)) n++;
      }),
    );
    expect(n).toBeGreaterThan(0);
    // In the exported SVG: one hatched shape over the masked cells, and the key under the colour bar.
    const svg = heatmapSvgBody(m.spec, FIGURE_THEME);
    expect(svg).toMatch(/<path class="masked-cells" d="[^"]+" fill="url\(#heatmap-masked\)"\/>/);
    expect(svg).toContain(`>not in top ${k}</text>`);
    expect(svg).not.toContain('fill="#999999"');
  });

  it('works without a lens target (answer known only by name)', () => {
    const noTarget: LensAnalysis = { ...worldLens, lens: { ...worldLens.lens, hooks: worldLens.lens.hooks.map((h) => ({ ...h, prompts: h.prompts.map((p) => ({ top: p.top })) })) } };
    const m = lensMatrix(noTarget);
    expect(name(m.columns[0])).toBe('dist_1');
    expect(m.spec.values[0][0]).toBeNaN();
    expect(lensRanks(noTarget)[0].rank).toBeNull();
  });

  it('gives the answer rank per hook', () => {
    const r = lensRanks(worldLens);
    expect(r.map((x) => x.rank)).toEqual([61, 0, 0]);
    expect(r.map((x) => x.topToken)).toEqual(['dist_2', 'dist_1', 'dist_1']);
    expect(r[0].hook).toBe('blocks.0.hook_resid_pre');
  });

  it('writes a CSV with one row per hook and token', () => {
    const lines = lensCsv(worldLens).trim().split('\n');
    const m = lensMatrix(worldLens);
    expect(lines[0]).toBe('hook,depth,token,is_answer,prob,answer_rank');
    expect(lines).toHaveLength(1 + 3 * m.columns.length);
    expect(lines[1]).toBe(`blocks.0.hook_resid_pre,0,dist_1,1,${worldLens.lens.hooks[0].prompts[0].target?.prob},61`);
    expect(lines.some((l) => /,,61$/.test(l))).toBe(true);
  });
});

describe('direct logit attribution', () => {
  it('takes prompt 0 of every component, with bias and total', () => {
    const s = dlaSummary(worldLens);
    expect(s.bars.map((b) => b.label)).toEqual(['embed', 'pos_embed', 'L0H0', 'L0H1', 'L0H2', 'L0H3', 'MLP0', 'L1H0', 'L1H1', 'L1H2', 'L1H3', 'MLP1']);
    expect(s.bars.find((b) => b.label === 'L1H3')).toMatchObject({ kind: 'head', layer: 1, head: 3 });
    expect(s.bias).toBe(worldLens.dla.bias[0]);
    expect(s.logit).toBe(worldLens.dla.logit[0]);
    // The decomposition is exact: Σ bars + bias = the logit difference (up to rounding of the fixture).
    expect(s.bars.reduce((a, b) => a + b.value, 0) + s.bias).toBeCloseTo(s.logit, 1);
  });

  it('attributes the logit difference answer − wrong by default and says so', () => {
    const s = dlaSummary(worldLens);
    expect(s.method).toBe('logit-diff');
    expect(s.baseline).toBe('dist_3');
    expect(s.attribution).toBe('logit difference dist_1 − dist_3');
    expect(s.totalLabel).toBe('total_logit_diff');
    // A logit difference is positive where the model gets the answer (p = 1), unlike the raw logit (−149).
    expect(s.logit).toBeGreaterThan(10);
  });

  it('names centred and raw logits', () => {
    const centred: LensAnalysis = { ...worldLens, attribution: { method: 'centred', answer: 'dist_1' }, dla: { ...worldLens.dla, baseline: null } };
    expect(dlaSummary(centred).attribution).toBe('centred logit dist_1 (minus the mean logit over the vocabulary)');
    expect(dlaSummary(centred).baseline).toBeNull();
    const raw: LensAnalysis = { ...centred, attribution: { method: 'logit', answer: 'dist_1' } };
    expect(dlaSummary(raw).attribution).toBe('logit dist_1 (raw)');
    expect(dlaSummary(raw).totalLabel).toBe('total_logit');
  });

  it('writes components, then bias, total and sum, each row naming the attribution', () => {
    const lines = dlaCsv(worldLens).trim().split('\n');
    expect(lines[0]).toBe('component,kind,layer,head,value,attribution');
    expect(lines).toHaveLength(1 + 12 + 3);
    expect(lines[3]).toBe(`L0H0,head,0,0,${worldLens.dla.components[2].values[0]},logit difference dist_1 − dist_3`);
    expect(lines[lines.length - 2]).toBe(`total_logit_diff,total,,,${worldLens.dla.logit[0]},logit difference dist_1 − dist_3`);
  });

  it('grows the chart with the bars', () => {
    expect(dlaChartHeight(12)).toBe(314);
    expect(dlaChartHeight(2)).toBe(160);
  });
});

describe('activation patching', () => {
  it('residual stream: layer × position, clean tokens as columns, diverging around 0', () => {
    const s = residPatchingSpec(worldPatching);
    expect(s.values).toBe(worldPatching.residual.metric);
    expect(s.rowLabels).toEqual(['L0', 'L1']);
    expect(s.colLabels).toEqual(worldPatching.tokens);
    expect(s.scale).toBe('diverging');
    expect(s.domain).toEqual([-1, 1]);
    expect(s.annotate).toBe(true);
  });

  it('heads: layer × head', () => {
    const s = headPatchingSpec(worldPatching);
    expect(s.rowLabels).toEqual(['L0', 'L1']);
    expect(s.colLabels).toEqual(['H0', 'H1', 'H2', 'H3']);
    expect(s.values[0][1]).toBeCloseTo(0.8771, 3);
  });

  it('keeps ±1 in the domain and widens it for overshoots', () => {
    expect(patchingDomain([[0.2, -0.1]])).toEqual([-1, 1]);
    expect(patchingDomain([[1.5, -0.1]])).toEqual([-1.5, 1.5]);
    expect(patchingDomain([[-2, NaN]])).toEqual([-2, 2]);
  });

  it('marks where the corruption changed the prompt', () => {
    expect(patchingSummary(worldPatching)).toEqual({ changed: [1], cleanLogitDiff: worldPatching.residual.cleanLogitDiff, corruptedLogitDiff: worldPatching.residual.corruptedLogitDiff, unstable: false });
  });

  it('flags a corruption that barely moves the logit difference', () => {
    const weak = (clean: number, corrupted: number) => patchingSummary({ ...worldPatching, residual: { ...worldPatching.residual, cleanLogitDiff: clean, corruptedLogitDiff: corrupted } }).unstable;
    expect(weak(19.0, 19.5)).toBe(true);
    expect(weak(0.3, -0.3)).toBe(true);
    expect(weak(19.7, -18.9)).toBe(false);
    expect(weak(NaN, 1)).toBe(true);
  });

  it('writes CSVs', () => {
    const r = residPatchingCsv(worldPatching).trim().split('\n');
    expect(r[0]).toBe('hook,layer,position,clean_token,corrupted_token,metric');
    expect(r).toHaveLength(1 + 2 * 6);
    expect(r[2]).toBe('resid_pre,0,1,city_3,city_12,1');
    const h = headPatchingCsv(worldPatching).trim().split('\n');
    expect(h[0]).toBe('layer,head,label,metric');
    expect(h).toHaveLength(1 + 8);
    expect(h[2]).toMatch(/^0,1,L0H1,0\.877/);
  });
});
