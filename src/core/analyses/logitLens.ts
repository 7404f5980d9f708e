import { ApiArgumentError } from '../../shared/errors';
import { directLogitAttribution, logitLens as lensAt } from '../analysis/logitLens';
import { promptOf, tokenId, tokenNames, topPrediction, withParams } from './runModel';
import type { AnalysisRunner } from './runner';

/** The answer defaults to the model's own top prediction at the position read. */
export const logitLens: AnalysisRunner<'logit-lens'> = (target, args) => {
  const run = target.open(args.step);
  const prompt = promptOf(run, args.prompt);
  const position = args.position ?? prompt.length - 1;
  if (position >= prompt.length) throw new ApiArgumentError(`position ${position} outside 0..${prompt.length - 1}`);
  return withParams(run, (params) => {
    const answer = args.answer ? tokenId(run, args.answer, 'answer') : topPrediction(run, params, prompt.slice(0, position + 1));
    const lens = lensAt(run.config, params, [prompt], { position, topK: args.topK ?? 5, targets: [answer] });
    const dla = directLogitAttribution(run.config, params, [prompt], { position, answer });
    return { step: run.step, tokens: tokenNames(run, prompt), answer: run.vocab[answer], vocab: [...run.vocab], lens, dla };
  });
};
