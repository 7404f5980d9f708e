import { attentionPatterns } from '../analysis/attention';
import { promptOf, tokenNames } from './runModel';
import type { AnalysisRunner } from './runner';

export const attention: AnalysisRunner<'attention'> = (target, args) => {
  const m = target.open(args.step);
  const prompt = promptOf(m, args.prompt);
  return m.withParams((params) => ({ step: m.step, tokens: tokenNames(m, prompt), ...attentionPatterns(m.config, params, [prompt], { layers: args.layers }) }));
};
