import { ApiArgumentError } from '../../shared/errors';
import { directLogitAttribution, logitLens as lensAt } from '../analysis/logitLens';
import { promptOf, tokenNames, topPrediction } from './runModel';
import type { AnalysisRunner } from './runner';

/** The answer defaults to the model's own top prediction at the position read. */
export const logitLens: AnalysisRunner<'logit-lens'> = (target, args) => {
  const m = target.open(args.step);
  const prompt = promptOf(m, args.prompt);
  const position = args.position ?? prompt.length - 1;
  if (position >= prompt.length) throw new ApiArgumentError(`position ${position} outside 0..${prompt.length - 1}`);
  return m.withParams((params) => {
    const answer = args.answer ? m.tokenId(args.answer, 'answer') : topPrediction(m, params, prompt.slice(0, position + 1));
    const lens = lensAt(m.config, params, [prompt], { position, topK: args.topK ?? 5, targets: [answer] });
    const dla = directLogitAttribution(m.config, params, [prompt], { position, answer });
    return { step: m.step, tokens: tokenNames(m, prompt), answer: m.vocab[answer], vocab: [...m.vocab], lens, dla };
  });
};
