import type { LensAnalysis, PatchingAnalysis } from '../../../../shared/api';
import type { LensHook } from '../../../../shared/analysis';
import { lensTable } from '../../../../shared/analyses/logitLens';
import { parseHookName } from '../../../../shared/hooks';
import type { HeatmapSpec } from '../../figure/heatmapFigure';
import { diffPositions } from '../../shell/runInputs/promptText';

/**
 * Pure shaping for the Lens & Patching view (shapes in src/shared/analysis.ts): the logit lens as a
 * hook × token probability matrix with the answer's rank per hook, direct logit attribution as bars,
 * and the two patching metrics as layer × position and layer × head matrices. Prompt 0 throughout.
 */

/** CSV tables of the lens and patching analyses (src/shared/analyses), as `oocr analyze … --format csv --table NAME` writes them. */
export { dlaCsv, dlaSummary, lensCsv, type DlaBar, type DlaSummary } from '../../../../shared/analyses/logitLens';
export { headPatchingCsv, residPatchingCsv } from '../../../../shared/analyses/patching';

// ─── Logit lens ─────────────────────────────────────────────────────────────────────────────────────

/** `blocks.1.hook_resid_pre` at depth 1 → `1: resid_pre 1` (depth = layers applied before the hook). */
export function lensRowLabel(h: Pick<LensHook, 'hook' | 'depth'>): string {
  const p = parseHookName(h.hook);
  const short = p && p.layer !== null ? `${p.hook.replace(/^hook_/, '')} ${p.layer}` : h.hook;
  return `${h.depth}: ${short}`;
}

export interface LensMatrix {
  spec: HeatmapSpec;
  /** Token ids of the columns (the answer first, then the others by their highest probability). */
  columns: number[];
  /** Index of the answer's column, or −1 when the lens tracked no target. */
  answerColumn: number;
}

/** The k of the lens's top-k (the longest top list of prompt 0 over the hooks). */
export function lensTopK(a: LensAnalysis): number {
  return Math.max(0, ...a.lens.hooks.map((h) => h.prompts[0]?.top.length ?? 0));
}

/**
 * Rows: the lens's hooks by depth; columns: every token in some hook's top-k, plus the answer;
 * values: that token's probability at that hook, NaN where the hook's top-k does not hold it (the
 * lens returns only the top-k and the answer). Those cells are masked: hatched grey with a key
 * "not in top k", never a colour of the scale (a probability of 0 would be viridis' darkest purple).
 * Colour scale: 0 to the largest probability shown (a small model's lens can be flat, and a fixed
 * 0..1 scale would show nothing).
 */
export function lensMatrix(a: LensAnalysis): LensMatrix {
  const { hooks, columns, answerColumn, values } = lensTable(a);
  const k = lensTopK(a);
  const answer = answerColumn >= 0 ? columns[answerColumn] : -1;
  const name = (t: number) => a.vocab[t] ?? `#${t}`;
  let max = 0;
  for (const r of values) for (const v of r) if (Number.isFinite(v)) max = Math.max(max, v);
  return {
    columns,
    answerColumn,
    spec: {
      values,
      rowLabels: hooks.map(lensRowLabel),
      colLabels: columns.map((t) => (t === answer ? `${name(t)} (answer)` : name(t))),
      scale: 'sequential',
      domain: [0, max > 0 ? max : 1],
      xLabel: 'token',
      yLabel: 'depth: hook',
      valueLabel: 'probability',
      masked: (r, c) => !Number.isFinite(values[r]?.[c]),
      maskedLabel: k > 0 ? `not in top ${k}` : 'not in the top k',
      cell: columns.length <= 16 ? 28 : undefined,
    },
  };
}

export interface LensRankRow {
  depth: number;
  hook: string;
  label: string;
  rank: number | null;
  answerProb: number | null;
  topToken: string;
  topProb: number;
}

/** Per hook: the answer's rank (0 = the lens's top prediction) and probability, and the top-1 token. */
export function lensRanks(a: LensAnalysis): LensRankRow[] {
  return [...a.lens.hooks]
    .sort((x, y) => x.depth - y.depth)
    .map((h) => {
      const p = h.prompts[0];
      const top = p?.top[0];
      return {
        depth: h.depth,
        hook: h.hook,
        label: lensRowLabel(h),
        rank: p?.target?.rank ?? null,
        answerProb: p?.target?.prob ?? null,
        topToken: top ? (a.vocab[top.token] ?? `#${top.token}`) : '',
        topProb: top?.prob ?? NaN,
      };
    });
}

// ─── Direct logit attribution ───────────────────────────────────────────────────────────────────────

/** Pixel height for a horizontal bar chart of n bars. */
export function dlaChartHeight(n: number): number {
  return Math.max(160, 22 * n + 50);
}

// ─── Activation patching ────────────────────────────────────────────────────────────────────────────

/** Diverging domain centred on 0 that always holds ±1 (no effect … full restoration). */
export function patchingDomain(values: readonly (readonly number[])[]): [number, number] {
  let m = 1;
  for (const r of values) for (const v of r) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return [-m, m];
}

/** The residual stream by layer × position; columns are the clean tokens. */
export function residPatchingSpec(p: PatchingAnalysis): HeatmapSpec {
  const r = p.residual;
  const T = r.metric[0]?.length ?? 0;
  return {
    values: r.metric,
    rowLabels: r.metric.map((_, l) => `L${l}`),
    colLabels: p.tokens.slice(0, T),
    scale: 'diverging',
    domain: patchingDomain(r.metric),
    xLabel: 'position (clean token)',
    yLabel: 'layer',
    valueLabel: 'metric',
    annotate: true,
    cell: Math.max(24, Math.min(44, Math.floor(440 / Math.max(T, 1)))),
  };
}

/** Every head's `hook_z` (all positions) by layer × head. */
export function headPatchingSpec(p: PatchingAnalysis): HeatmapSpec {
  const m = p.heads.metric;
  const H = m[0]?.length ?? 0;
  return {
    values: m,
    rowLabels: m.map((_, l) => `L${l}`),
    colLabels: Array.from({ length: H }, (_, h) => `H${h}`),
    scale: 'diverging',
    domain: patchingDomain(m),
    xLabel: 'head',
    yLabel: 'layer',
    valueLabel: 'metric',
    annotate: true,
    cell: 44,
  };
}

/**
 * What the patching run used: which positions the corruption changed and the two logit differences.
 * `unstable`: the corruption moves the logit difference by less than max(1, 10% of the clean one), so
 * the normalised metric divides by a small number and its values mean little.
 */
export function patchingSummary(p: PatchingAnalysis): { changed: number[]; cleanLogitDiff: number; corruptedLogitDiff: number; unstable: boolean } {
  const { cleanLogitDiff, corruptedLogitDiff } = p.residual;
  const unstable = !(Math.abs(cleanLogitDiff - corruptedLogitDiff) >= Math.max(1, 0.1 * Math.abs(cleanLogitDiff)));
  return { changed: diffPositions(p.tokens, p.corrupted), cleanLogitDiff, corruptedLogitDiff, unstable };
}
