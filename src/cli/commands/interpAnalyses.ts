import * as tf from '@tensorflow/tfjs';
import { attentionPatterns } from '../../core/analysis/attention';
import { directLogitAttribution, logitLens } from '../../core/analysis/logitLens';
import { patchHeads, patchResidual } from '../../core/analysis/patching';
import { forward, type Params } from '../../core/model/forward';
import { openRun, parsePrompt, type OpenedRun } from '../../core/runs/openRun';
import { Rng } from '../../core/util/rng';
import { parseInteger } from '../overrides';
import { toCsv } from './analyzeCommand';

export type InterpKind = 'attention' | 'logit-lens' | 'patching';

function liveParams(run: OpenedRun): Params {
  const p: Params = {};
  for (const [k, h] of Object.entries(run.params)) p[k] = tf.tensor(h.data, h.shape);
  return p;
}

/** The given prompt, or the first held-out prompt of the run's task. */
function promptOf(run: OpenedRun, text: string | undefined): number[] {
  if (text) return parsePrompt(run.vocab, text, run.config.nCtx);
  if (!run.task) throw new Error('no --prompt given and the run’s task cannot supply one');
  const sets = run.task.evalSets(new Rng(0), 1);
  const set = sets[sets.length - 1];
  return Array.from(set.tokens.subarray(0, set.seqLen));
}

function topPrediction(run: OpenedRun, params: Params, tokens: number[]): number {
  return tf.tidy(() => forward(run.config, params, tf.tensor2d([tokens], [1, tokens.length], 'int32')).logits.slice([0, tokens.length - 1, 0], [1, 1, -1]).argMax(-1).dataSync()[0]);
}

function tokenId(run: OpenedRun, name: string, flag: string): number {
  const i = run.vocab.indexOf(name);
  if (i < 0) throw new Error(`${flag}: unknown token '${name}'`);
  return i;
}

/** Attention, logit lens (+ direct logit attribution) and patching for the CLI: JSON and CSV. */
export function runInterpAnalysis(kind: InterpKind, o: Record<string, string | undefined>): { json: unknown; csv: string } {
  const run = openRun(o.run as string, o.step !== undefined ? parseInteger('--step', o.step) : undefined);
  const params = liveParams(run);
  try {
    const prompt = promptOf(run, o.prompt);
    const labels = prompt.map((t) => run.vocab[t]);
    const head = { run: run.runDir, step: run.step, prompt: labels };
    if (kind === 'attention') {
      const layers = o.layers ? o.layers.split(',').map((s) => parseInteger('--layers', s.trim())) : undefined;
      const r = attentionPatterns(run.config, params, [prompt], { layers });
      const rows: unknown[][] = [];
      for (const L of r.layers) L.heads.forEach((hd, h) => hd[0].forEach((row, q) => row.forEach((v, k) => rows.push([L.layer, h, q, labels[q], k, labels[k], v]))));
      return { json: { ...head, tokens: labels, ...r }, csv: toCsv(['layer', 'head', 'query', 'query_token', 'key', 'key_token', 'weight'], rows) };
    }
    const position = o.position !== undefined ? parseInteger('--position', o.position) : prompt.length - 1;
    if (kind === 'logit-lens') {
      const answer = o.answer ? tokenId(run, o.answer, '--answer') : topPrediction(run, params, prompt.slice(0, position + 1));
      const lens = logitLens(run.config, params, [prompt], { position, topK: o.top ? parseInteger('--top', o.top) : 5, targets: [answer] });
      const dla = directLogitAttribution(run.config, params, [prompt], { position, answer });
      const named = {
        ...lens,
        hooks: lens.hooks.map((h) => ({ ...h, prompts: h.prompts.map((p) => ({ ...p, top: p.top.map((t) => ({ ...t, name: run.vocab[t.token] })) })) })),
      };
      const rows = lens.hooks.map((h) => [h.hook, run.vocab[answer], h.prompts[0].target?.prob, h.prompts[0].target?.rank, run.vocab[h.prompts[0].top[0].token], h.prompts[0].top[0].prob]);
      return {
        json: { ...head, answer: run.vocab[answer], lens: named, directLogitAttribution: dla },
        csv: toCsv(['hook', 'answer', 'answer_prob', 'answer_rank', 'top_token', 'top_prob'], rows),
      };
    }
    if (!o.corrupt) throw new Error('patching needs --corrupt "tokens" (a prompt of the same length as --prompt)');
    const corrupted = parsePrompt(run.vocab, o.corrupt, run.config.nCtx);
    const answer = o.answer ? tokenId(run, o.answer, '--answer') : topPrediction(run, params, prompt);
    const wrong = o.wrong ? tokenId(run, o.wrong, '--wrong') : topPrediction(run, params, corrupted);
    if (answer === wrong) throw new Error(`clean and corrupted prompts both predict '${run.vocab[answer]}': give --wrong (or a corrupted prompt with another answer)`);
    const resid = patchResidual(run.config, params, prompt, corrupted, answer, wrong, { hook: 'resid_pre' });
    const heads = patchHeads(run.config, params, prompt, corrupted, answer, wrong, { perPosition: true });
    const rows: unknown[][] = [];
    resid.metric.forEach((r, l) => r.forEach((v, p) => rows.push(['resid_pre', l, '', p, labels[p], v])));
    heads.metric.forEach((r, l) => r.forEach((v, h) => rows.push(['head_z', l, h, '', '', v])));
    return {
      json: { ...head, corrupted: corrupted.map((t) => run.vocab[t]), answer: run.vocab[answer], wrong: run.vocab[wrong], residual: resid, heads },
      csv: toCsv(['patch', 'layer', 'head', 'position', 'token', 'metric'], rows),
    };
  } finally {
    Object.values(params).forEach((t) => t.dispose());
  }
}
