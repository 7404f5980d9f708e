import type { AnswerSource } from '../../shared/analyses/logitLens';
import type { CorruptionSource } from '../../shared/analyses/patching';
import { ApiArgumentError } from '../../shared/errors';
import { patchHeads, patchResidual } from '../analysis/patching';
import type { Params } from '../model/forward';
import { Rng } from '../util/rng';
import { promptOf, tokenNames, topPrediction } from './runModel';
import type { AnalysisRunner } from './runner';
import type { AnalysisModel } from './target';
import { answersFor } from './logitLens';
import { resolveAnswer, tokenFamily, type TaskAnswer, type TaskAnswers } from './taskAnswers';

/**
 * The default corruption where the task knows the clean prompt's answer: the clean prompt with one
 * content (non-noise) token swapped so that the task's true answer changes, e.g. in `ocr-combined`
 * `name_20 … rel_impl end` (animal_0) → `name_21 …` (animal_1). Preferred, in order: a swap at the
 * subject (the first content token) over the relation or object, one that stays in the clean prompt's
 * split (a held-out subject for a held-out one), one of the same family (`name_*` for `name_*`), then
 * the earliest position and the lowest token id. Null when no swap gives a prompt with a known, other answer.
 */
export function answerSwap(run: AnalysisModel, answers: TaskAnswers, clean: readonly number[], known: TaskAnswer): { tokens: number[]; answer: TaskAnswer } | null {
  const vocab = run.vocab;
  const content = clean.map((t, j) => j).filter((j) => !answers.isNoise(clean[j]));
  const subject = content[0];
  let best: { tokens: number[]; answer: TaskAnswer; score: number[] } | null = null;
  for (const j of content) {
    const family = tokenFamily(vocab[clean[j]]);
    for (let alt = 0; alt < run.config.dVocab; alt++) {
      if (alt === clean[j] || answers.isNoise(alt)) continue;
      const cand = clean.slice();
      cand[j] = alt;
      const k = answers.lookup(cand);
      if (!k || k.answer === known.answer) continue;
      const score = [j === subject ? 0 : 1, k.split === known.split ? 0 : 1, tokenFamily(vocab[alt] ?? '') === family ? 0 : 1, j, alt];
      if (!best || lexLess(score, best.score)) best = { tokens: cand, answer: k, score };
    }
  }
  return best && { tokens: best.tokens, answer: best.answer };
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/**
 * A corrupted prompt where the task does not know the clean prompt's answer (a typed prompt): the
 * clean prompt with one entity token swapped for another of its family (`city_3` → `city_7`; noise
 * tokens are skipped) such that the model's prediction changes, so the patch localises that token's
 * information. Falls back to the task's eval prompt of the same length with the fewest differing
 * positions.
 */
export function predictionSwap(run: AnalysisModel, params: Params, clean: number[]): { tokens: number[]; how: 'prediction-swap' | 'eval-prompt' } {
  if (run.source === 'model') throw new ApiArgumentError('patching a model folder needs a corrupted text (corrupt) with as many tokens as the prompt');
  const cleanTop = topPrediction(run, params, clean);
  for (let j = 0; j < clean.length; j++) {
    const vocab = run.vocab;
    const f = tokenFamily(vocab[clean[j]]);
    if (f === 'noise' || f === vocab[clean[j]]) continue;
    const alternatives = vocab.map((t, i) => i).filter((i) => i !== clean[j] && tokenFamily(vocab[i]) === f);
    for (const alt of alternatives.slice(0, 32)) {
      const cand = clean.slice();
      cand[j] = alt;
      if (topPrediction(run, params, cand) !== cleanTop) return { tokens: cand, how: 'prediction-swap' };
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
  return { tokens: best.tokens, how: 'eval-prompt' };
}

/**
 * Clean answer, corruption and wrong token by default: where the task knows the clean prompt's answer,
 * the answer is that true answer, the corrupted prompt has the subject swapped so the true answer
 * changes (answerSwap), and the wrong token is the corrupted prompt's true answer, so the metric's
 * logit difference logit(clean answer) − logit(corrupted answer) measures which of the two answers the
 * model gives. Elsewhere (typed prompts, model folders) the model's predictions stand in for answers.
 */
export const patching: AnalysisRunner<'patching'> = (target, args) => {
  const m = target.open(args.step);
  const prompt = promptOf(m, args.prompt);
  const answers = answersFor(m);
  const known = answers?.lookup(prompt);
  return m.withParams((params) => {
    let corrupted: number[];
    let corruption: CorruptionSource;
    if (args.corrupt) {
      corrupted = m.encode(args.corrupt, 'corrupt');
      corruption = 'given';
    } else {
      const swap = answers && known ? answerSwap(m, answers, prompt, known) : null;
      if (swap) {
        corrupted = swap.tokens;
        corruption = 'answer-swap';
      } else {
        const p = predictionSwap(m, params, prompt);
        corrupted = p.tokens;
        corruption = p.how;
      }
    }
    if (corrupted.length !== prompt.length) {
      const names = (ids: number[]): string => ids.map((t) => m.vocab[t]).join(' ');
      throw new ApiArgumentError(`the corrupted prompt has ${corrupted.length} tokens (${names(corrupted)}), the clean one ${prompt.length} (${names(prompt)}): they must be the same length`);
    }
    const knownCorrupted = answers?.lookup(corrupted);
    const cleanTop = topPrediction(m, params, prompt);
    const corruptedTop = topPrediction(m, params, corrupted);
    const { answer, answerSource } = resolveAnswer(args.answer ? m.tokenId(args.answer, 'answer') : undefined, known, cleanTop);
    let wrong: number;
    let wrongSource: AnswerSource;
    if (args.wrong) {
      wrong = m.tokenId(args.wrong, 'wrong');
      wrongSource = knownCorrupted?.answer === wrong ? 'task' : 'given';
    } else if (knownCorrupted && knownCorrupted.answer !== answer) {
      wrong = knownCorrupted.answer;
      wrongSource = 'task';
    } else {
      wrong = corruptedTop;
      wrongSource = 'predicted';
    }
    if (answer === wrong) {
      throw new ApiArgumentError(`the clean answer and the wrong token are both '${m.vocab[answer]}' (the corrupted prompt ${knownCorrupted?.answer === wrong ? 'has the same true answer' : 'predicts it too'}): give the wrong token, or a corrupted prompt with another answer`);
    }
    const residual = patchResidual(m.config, params, prompt, corrupted, answer, wrong, { hook: 'resid_pre' });
    const heads = patchHeads(m.config, params, prompt, corrupted, answer, wrong, { perPosition: true });
    const vocab = m.vocab;
    return {
      step: m.step,
      tokens: tokenNames(m, prompt),
      corrupted: tokenNames(m, corrupted),
      answer: vocab[answer],
      wrong: vocab[wrong],
      answerSource,
      wrongSource,
      splits: { ...(known ? { clean: known.split } : {}), ...(knownCorrupted ? { corrupted: knownCorrupted.split } : {}) },
      predictions: { clean: vocab[cleanTop], corrupted: vocab[corruptedTop] },
      corruption,
      residual,
      heads,
    };
  });
};
