import * as tf from '@tensorflow/tfjs';
import type { AttentionPatternsResult, DirectLogitAttributionResult, HeadPatchingResult, LogitLensResult, Projection3D, ResidualPatchingResult } from '../../shared/analysis';
import type { HookName } from '../../shared/hooks';
import { attentionPatterns } from '../analysis/attention';
import { directLogitAttribution, logitLens } from '../analysis/logitLens';
import { patchHeads, patchResidual } from '../analysis/patching';
import { project3 } from '../analysis/projection';
import { projectionRows, type ProjectRunOptions } from '../analysis/projectRun';
import type { Rows } from '../analysis/linalg';
import { buildAdaptation, loadFinetuned } from '../finetune/runFinetune';
import { forward, type Params } from '../model/forward';
import type { HostTensor } from '../model/params';
import { Rng } from '../util/rng';
import { parsePrompt, runTask, type OpenedRun } from './openRun';

/**
 * The per-run analyses behind `oocr analyze` and the workbench API: a run and a few names in, plain
 * data out. Prompts are token names; answers default to the model's own top prediction.
 */

export function liveParams(host: Record<string, HostTensor>): Params {
  const p: Params = {};
  for (const [k, h] of Object.entries(host)) p[k] = tf.tensor(h.data, h.shape);
  return p;
}

function withParams<T>(run: OpenedRun, fn: (p: Params) => T): T {
  const params = liveParams(run.params);
  try {
    return fn(params);
  } finally {
    Object.values(params).forEach((t) => t.dispose());
  }
}

/** The given prompt, or the first prompt of the task's last eval split (a held-out one). */
export function promptOf(run: OpenedRun, text: string | undefined): number[] {
  if (text) return parsePrompt(run.vocab, text, run.config.nCtx);
  if (!run.task) throw new Error('no prompt given and the run’s task cannot supply one');
  const sets = run.task.evalSets(new Rng(0), 1);
  const set = sets[sets.length - 1];
  return Array.from(set.tokens.subarray(0, set.seqLen));
}

export function topPrediction(run: OpenedRun, params: Params, tokens: number[]): number {
  return tf.tidy(() => forward(run.config, params, tf.tensor2d([tokens], [1, tokens.length], 'int32')).logits.slice([0, tokens.length - 1, 0], [1, 1, -1]).argMax(-1).dataSync()[0]);
}

export function tokenId(run: OpenedRun, name: string, what: string): number {
  const i = run.vocab.indexOf(name);
  if (i < 0) throw new Error(`${what}: unknown token '${name}'`);
  return i;
}

export function attentionOf(run: OpenedRun, o: { prompt?: string; layers?: number[] }): { tokens: string[] } & AttentionPatternsResult {
  const prompt = promptOf(run, o.prompt);
  return withParams(run, (params) => ({ tokens: prompt.map((t) => run.vocab[t]), ...attentionPatterns(run.config, params, [prompt], { layers: o.layers }) }));
}

export function lensOf(
  run: OpenedRun,
  o: { prompt?: string; answer?: string; topK?: number; position?: number },
): { tokens: string[]; answer: string; lens: LogitLensResult; dla: DirectLogitAttributionResult } {
  const prompt = promptOf(run, o.prompt);
  const position = o.position ?? prompt.length - 1;
  return withParams(run, (params) => {
    const answer = o.answer ? tokenId(run, o.answer, 'answer') : topPrediction(run, params, prompt.slice(0, position + 1));
    const lens = logitLens(run.config, params, [prompt], { position, topK: o.topK ?? 5, targets: [answer] });
    const dla = directLogitAttribution(run.config, params, [prompt], { position, answer });
    return { tokens: prompt.map((t) => run.vocab[t]), answer: run.vocab[answer], lens, dla };
  });
}

/**
 * A corrupted prompt for patching when none is given: the clean prompt with one entity token swapped
 * for another of its family (`city_3` → `city_7`; noise tokens are skipped) such that the model's
 * prediction changes, so the patch localises that token's information. Falls back to the task's eval
 * prompt of the same length with the fewest differing positions.
 */
export function defaultCorruption(run: OpenedRun, params: Params, clean: number[]): number[] {
  const cleanTop = topPrediction(run, params, clean);
  const family = (t: string): string => (t.includes('_') ? t.slice(0, t.lastIndexOf('_')) : t);
  for (let j = 0; j < clean.length; j++) {
    const f = family(run.vocab[clean[j]]);
    if (f === 'noise' || f === run.vocab[clean[j]]) continue;
    const alternatives = run.vocab.map((t, i) => i).filter((i) => i !== clean[j] && family(run.vocab[i]) === f);
    for (const alt of alternatives.slice(0, 32)) {
      const cand = clean.slice();
      cand[j] = alt;
      if (topPrediction(run, params, cand) !== cleanTop) return cand;
    }
  }
  if (!run.task) throw new Error('patching needs a corrupted prompt (the run’s task cannot supply one)');
  let best: { tokens: number[]; diff: number } | null = null;
  for (const set of run.task.evalSets(new Rng(1), 24)) {
    if (set.seqLen !== clean.length) continue;
    for (let i = 0; i < set.batch; i++) {
      const cand = Array.from(set.tokens.subarray(i * set.seqLen, (i + 1) * set.seqLen));
      const diff = cand.reduce((s, t, k) => s + (t !== clean[k] ? 1 : 0), 0);
      if (diff === 0 || (best && diff >= best.diff)) continue;
      if (topPrediction(run, params, cand) === cleanTop) continue;
      best = { tokens: cand, diff };
    }
  }
  if (!best) throw new Error('no corrupted prompt of the same length with a different prediction was found: give one');
  return best.tokens;
}

export function patchingOf(
  run: OpenedRun,
  o: { prompt?: string; corrupt?: string; answer?: string; wrong?: string },
): { tokens: string[]; corrupted: string[]; answer: string; wrong: string; residual: ResidualPatchingResult; heads: HeadPatchingResult } {
  const prompt = promptOf(run, o.prompt);
  return withParams(run, (params) => {
    const corrupted = o.corrupt ? parsePrompt(run.vocab, o.corrupt, run.config.nCtx) : defaultCorruption(run, params, prompt);
    if (corrupted.length !== prompt.length) throw new Error(`the corrupted prompt has ${corrupted.length} tokens, the clean one ${prompt.length}: they must be the same length`);
    const answer = o.answer ? tokenId(run, o.answer, 'answer') : topPrediction(run, params, prompt);
    const wrong = o.wrong ? tokenId(run, o.wrong, 'wrong') : topPrediction(run, params, corrupted);
    if (answer === wrong) throw new Error(`clean and corrupted prompts both predict '${run.vocab[answer]}': give the wrong token (or a corrupted prompt with another answer)`);
    const residual = patchResidual(run.config, params, prompt, corrupted, answer, wrong, { hook: 'resid_pre' });
    const heads = patchHeads(run.config, params, prompt, corrupted, answer, wrong, { perPosition: true });
    return { tokens: prompt.map((t) => run.vocab[t]), corrupted: corrupted.map((t) => run.vocab[t]), answer: run.vocab[answer], wrong: run.vocab[wrong], residual, heads };
  });
}

/**
 * A fine-tuned run (LoRA, steering vector or full) projected at a hook together with its base model:
 * one fit over both sets of activations, so `origins[i]` (base) → `points[i]` (fine-tuned) shows
 * what the fine-tune moved.
 */
export function projectFinetunedRun(runDir: string, o: ProjectRunOptions & { source: HookName }): Projection3D & { source: string; step: number } {
  const { manifest, base, trained } = loadFinetuned(runDir);
  const ft = manifest.finetune;
  if (!ft) throw new Error(`${runDir}: not a fine-tune run`);
  const config = base.checkpoint.config;
  const task = runTask(manifest);
  const adaptation = buildAdaptation(config, base.checkpoint.params, ft.method, { lora: ft.lora, steer: ft.steer, seed: manifest.config.seed, trained });
  try {
    const before = projectionRows(config, base.checkpoint.params, task.vocab, task, o);
    const adaptedHost: Record<string, HostTensor> = {};
    const adaptedParams = adaptation.params();
    for (const [k, t] of Object.entries(adaptedParams)) adaptedHost[k] = { shape: t.shape.slice(), data: t.dataSync() as Float32Array };
    const after = projectionRows(config, adaptedHost, task.vocab, task, { ...o, interventions: adaptation.interventions() });
    const n = before.rows.n;
    const both: Rows = { n: 2 * n, d: before.rows.d, data: new Float32Array(2 * n * before.rows.d) };
    both.data.set(before.rows.data, 0);
    both.data.set(after.rows.data, n * before.rows.d);
    const p = project3(both, [...before.labels, ...after.labels], o.method, o);
    return { source: o.source, step: manifest.step, method: p.method, varianceRatio: p.varianceRatio, points: p.points.slice(n), origins: p.points.slice(0, n), labels: after.labels };
  } finally {
    adaptation.dispose();
  }
}
