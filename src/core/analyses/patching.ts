import { ApiArgumentError } from '../../shared/errors';
import { patchHeads, patchResidual } from '../analysis/patching';
import type { Params } from '../model/forward';
import { Rng } from '../util/rng';
import { promptOf, tokenNames, topPrediction } from './runModel';
import type { AnalysisRunner } from './runner';
import type { AnalysisModel } from './target';

/**
 * A corrupted prompt for patching when none is given: the clean prompt with one entity token swapped
 * for another of its family (`city_3` → `city_7`; noise tokens are skipped) such that the model's
 * prediction changes, so the patch localises that token's information. Falls back to the task's eval
 * prompt of the same length with the fewest differing positions.
 */
export function defaultCorruption(run: AnalysisModel, params: Params, clean: number[]): number[] {
  if (run.source === 'model') throw new ApiArgumentError('patching a model folder needs a corrupted text (corrupt) with as many tokens as the prompt');
  const cleanTop = topPrediction(run, params, clean);
  const family = (t: string): string => (t.includes('_') ? t.slice(0, t.lastIndexOf('_')) : t);
  for (let j = 0; j < clean.length; j++) {
    const vocab = run.vocab;
    const f = family(vocab[clean[j]]);
    if (f === 'noise' || f === vocab[clean[j]]) continue;
    const alternatives = vocab.map((t, i) => i).filter((i) => i !== clean[j] && family(vocab[i]) === f);
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
  const m = target.open(args.step);
  const prompt = promptOf(m, args.prompt);
  return m.withParams((params) => {
    const corrupted = args.corrupt ? m.encode(args.corrupt, 'corrupt') : defaultCorruption(m, params, prompt);
    if (corrupted.length !== prompt.length) {
      const names = (ids: number[]): string => ids.map((t) => m.vocab[t]).join(' ');
      throw new ApiArgumentError(`the corrupted prompt has ${corrupted.length} tokens (${names(corrupted)}), the clean one ${prompt.length} (${names(prompt)}): they must be the same length`);
    }
    const answer = args.answer ? m.tokenId(args.answer, 'answer') : topPrediction(m, params, prompt);
    const wrong = args.wrong ? m.tokenId(args.wrong, 'wrong') : topPrediction(m, params, corrupted);
    if (answer === wrong) throw new ApiArgumentError(`clean and corrupted prompts both predict '${m.vocab[answer]}': give the wrong token (or a corrupted prompt with another answer)`);
    const residual = patchResidual(m.config, params, prompt, corrupted, answer, wrong, { hook: 'resid_pre' });
    const heads = patchHeads(m.config, params, prompt, corrupted, answer, wrong, { perPosition: true });
    return { step: m.step, tokens: tokenNames(m, prompt), corrupted: tokenNames(m, corrupted), answer: m.vocab[answer], wrong: m.vocab[wrong], residual, heads };
  });
};
