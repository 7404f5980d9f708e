import * as tf from '@tensorflow/tfjs';
import type { AnswerSource } from '../../shared/analyses/logitLens';
import { ApiArgumentError } from '../../shared/errors';
import { directLogitAttribution, logitLens as lensAt } from '../analysis/logitLens';
import { forward, type Params } from '../model/forward';
import { promptOf, tokenNames } from './runModel';
import type { AnalysisRunner } from './runner';
import type { AnalysisModel } from './target';
import { resolveAnswer, taskAnswers, type TaskAnswer, type TaskAnswers } from './taskAnswers';

/** The model's logits at the last position of `tokens`, as one row (float32). */
export function lastLogits(m: AnalysisModel, params: Params, tokens: readonly number[]): Float32Array {
  return tf.tidy(() => {
    const ids = tf.tensor2d([[...tokens]], [1, tokens.length], 'int32');
    // A model folder reads out the last position only (as topPrediction does).
    if (m.source === 'model') return Float32Array.from(forward(m.config, params, ids, { readout: 'last' }).logits.reshape([-1]).dataSync().slice(-m.config.dVocab));
    return Float32Array.from(forward(m.config, params, ids).logits.slice([0, tokens.length - 1, 0], [1, 1, -1]).dataSync());
  });
}

/** The highest-logit token of `row` among `among` (default every token), skipping `except`; −1 if none. */
export function argmaxOf(row: Float32Array, except?: number, among?: readonly number[]): number {
  let best = -1;
  for (const t of among ?? row.keys()) if (t !== except && t < row.length && (best < 0 || row[t] > row[best])) best = t;
  return best;
}

/** Softmax probability of one token of a row of logits (float64). */
export function probOf(row: Float32Array, token: number): number {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let z = 0;
  for (const v of row) z += Math.exp(v - max);
  return Math.exp(row[token] - max) / z;
}

/** The run's task answers (none for a model folder or a run whose task this build cannot rebuild). */
export function answersFor(m: AnalysisModel): TaskAnswers | undefined {
  return m.source === 'run' && m.task ? taskAnswers(m.task) : undefined;
}

/**
 * The answer defaults to the task's true answer when the prompt is one the task asks (one of its eval
 * splits, read at the last position), else to the model's own top prediction; the prediction is
 * reported beside it. Direct logit attribution decomposes the logit difference answer − wrong by
 * default, the wrong token being the most likely other answer of the prompt's split (else the model's
 * most likely token other than the answer).
 */
export const logitLens: AnalysisRunner<'logit-lens'> = (target, args) => {
  const m = target.open(args.step);
  const prompt = promptOf(m, args.prompt);
  const position = args.position ?? prompt.length - 1;
  if (position >= prompt.length) throw new ApiArgumentError(`position ${position} outside 0..${prompt.length - 1}`);
  const method = args.attribution ?? 'logit-diff';
  if (args.wrong && method !== 'logit-diff') throw new ApiArgumentError(`wrong: a wrong token applies to attribution 'logit-diff', not '${method}'`);
  const answers = answersFor(m);
  // The task scores its prompts at the last position: elsewhere it knows no answer.
  const known: TaskAnswer | undefined = position === prompt.length - 1 ? answers?.lookup(prompt) : undefined;
  return m.withParams((params) => {
    const row = lastLogits(m, params, prompt.slice(0, position + 1));
    const top = argmaxOf(row);
    const { answer, answerSource } = resolveAnswer(args.answer ? m.tokenId(args.answer, 'answer') : undefined, known, top);
    let wrong: number | undefined;
    let wrongSource: AnswerSource | undefined;
    if (method === 'logit-diff') {
      if (args.wrong) {
        wrong = m.tokenId(args.wrong, 'wrong');
        if (wrong === answer) throw new ApiArgumentError(`wrong: '${args.wrong}' is the answer; the logit difference would be 0`);
        wrongSource = 'given';
      } else {
        const split = known && known.answer === answer ? answers?.answersOf(known.split) : undefined;
        const other = split && split.length > 1 ? argmaxOf(row, answer, split) : -1;
        if (other >= 0) {
          wrong = other;
          wrongSource = 'task';
        } else {
          wrong = argmaxOf(row, answer);
          wrongSource = 'predicted';
        }
      }
    }
    const lens = lensAt(m.config, params, [prompt], { position, topK: args.topK ?? 5, targets: [answer] });
    const dla = directLogitAttribution(m.config, params, [prompt], { position, answer, ...(method === 'logit-diff' ? { baseline: wrong } : method === 'centred' ? { baseline: 'mean' as const } : {}) });
    const vocab = m.vocab;
    const name = (t: number): string => vocab[t] ?? `#${t}`;
    return {
      step: m.step,
      tokens: tokenNames(m, prompt),
      answer: name(answer),
      answerSource,
      ...(known && known.answer === answer ? { split: known.split } : {}),
      prediction: { token: name(top), prob: probOf(row, top) },
      vocab: [...vocab],
      lens,
      dla,
      attribution: { method, answer: name(answer), ...(wrong !== undefined ? { wrong: name(wrong), wrongSource } : {}) },
    };
  });
};
