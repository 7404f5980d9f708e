import { openRun } from '../../core/runs/openRun';
import { attentionOf, lensOf, patchingOf } from '../../core/runs/runAnalyses';
import { toCsv } from '../../shared/csv';
import { parseInteger } from '../overrides';

export type InterpKind = 'attention' | 'logit-lens' | 'patching';

/** Attention, logit lens (+ direct logit attribution) and patching for the CLI: JSON and CSV. */
export function runInterpAnalysis(kind: InterpKind, o: Record<string, string | undefined>): { json: unknown; csv: string } {
  const run = openRun(o.run as string, o.step !== undefined ? parseInteger('--step', o.step) : undefined);
  if (kind === 'attention') {
    const layers = o.layers ? o.layers.split(',').map((s) => parseInteger('--layers', s.trim())) : undefined;
    const r = attentionOf(run, { prompt: o.prompt, layers });
    const labels = r.tokens;
    const rows: unknown[][] = [];
    for (const L of r.layers) L.heads.forEach((hd, h) => hd[0].forEach((row, q) => row.forEach((v, k) => rows.push([L.layer, h, q, labels[q], k, labels[k], v]))));
    return { json: { run: run.runDir, step: run.step, prompt: labels, ...r }, csv: toCsv(['layer', 'head', 'query', 'query_token', 'key', 'key_token', 'weight'], rows) };
  }
  if (kind === 'logit-lens') {
    const position = o.position !== undefined ? parseInteger('--position', o.position) : undefined;
    const r = lensOf(run, { prompt: o.prompt, answer: o.answer, topK: o.top ? parseInteger('--top', o.top) : 5, position });
    const named = {
      ...r.lens,
      hooks: r.lens.hooks.map((h) => ({ ...h, prompts: h.prompts.map((p) => ({ ...p, top: p.top.map((t) => ({ ...t, name: run.vocab[t.token] })) })) })),
    };
    const rows = r.lens.hooks.map((h) => [h.hook, r.answer, h.prompts[0].target?.prob, h.prompts[0].target?.rank, run.vocab[h.prompts[0].top[0].token], h.prompts[0].top[0].prob]);
    return {
      json: { run: run.runDir, step: run.step, prompt: r.tokens, answer: r.answer, lens: named, directLogitAttribution: r.dla },
      csv: toCsv(['hook', 'answer', 'answer_prob', 'answer_rank', 'top_token', 'top_prob'], rows),
    };
  }
  if (!o.corrupt) throw new Error('patching needs --corrupt "tokens" (a prompt of the same length as --prompt)');
  const r = patchingOf(run, { prompt: o.prompt, corrupt: o.corrupt, answer: o.answer, wrong: o.wrong });
  const rows: unknown[][] = [];
  r.residual.metric.forEach((m, l) => m.forEach((v, p) => rows.push(['resid_pre', l, '', p, r.tokens[p], v])));
  r.heads.metric.forEach((m, l) => m.forEach((v, h) => rows.push(['head_z', l, h, '', '', v])));
  return {
    json: { run: run.runDir, step: run.step, prompt: r.tokens, corrupted: r.corrupted, answer: r.answer, wrong: r.wrong, residual: r.residual, heads: r.heads },
    csv: toCsv(['patch', 'layer', 'head', 'position', 'token', 'metric'], rows),
  };
}
