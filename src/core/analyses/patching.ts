import { ApiArgumentError } from '../../shared/errors';
import { patchHeads, patchResidual } from '../analysis/patching';
import type { Params } from '../model/forward';
import { parsePrompt, type OpenedRun } from '../runs/openRun';
import { Rng } from '../util/rng';
import { promptOf, tokenId, tokenNames, topPrediction, withParams } from './runModel';
import type { AnalysisRunner } from './runner';

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
  if (!run.task) throw new ApiArgumentError('patching needs a corrupted prompt (the run’s task cannot supply one)');
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
  if (!best) throw new ApiArgumentError('no corrupted prompt of the same length with a different prediction was found: give one');
  return best.tokens;
}

export const patching: AnalysisRunner<'patching'> = (target, args) => {
  const run = target.open(args.step);
  const prompt = promptOf(run, args.prompt);
  return withParams(run, (params) => {
    const corrupted = args.corrupt ? parsePrompt(run.vocab, args.corrupt, run.config.nCtx) : defaultCorruption(run, params, prompt);
    if (corrupted.length !== prompt.length) throw new ApiArgumentError(`the corrupted prompt has ${corrupted.length} tokens, the clean one ${prompt.length}: they must be the same length`);
    const answer = args.answer ? tokenId(run, args.answer, 'answer') : topPrediction(run, params, prompt);
    const wrong = args.wrong ? tokenId(run, args.wrong, 'wrong') : topPrediction(run, params, corrupted);
    if (answer === wrong) throw new ApiArgumentError(`clean and corrupted prompts both predict '${run.vocab[answer]}': give the wrong token (or a corrupted prompt with another answer)`);
    const residual = patchResidual(run.config, params, prompt, corrupted, answer, wrong, { hook: 'resid_pre' });
    const heads = patchHeads(run.config, params, prompt, corrupted, answer, wrong, { perPosition: true });
    return { step: run.step, tokens: tokenNames(run, prompt), corrupted: tokenNames(run, corrupted), answer: run.vocab[answer], wrong: run.vocab[wrong], residual, heads };
  });
};
