import { attentionPatterns } from '../analysis/attention';
import { promptOf, tokenNames, withParams } from './runModel';
import type { AnalysisRunner } from './runner';

export const attention: AnalysisRunner<'attention'> = (target, args) => {
  const run = target.open(args.step);
  const prompt = promptOf(run, args.prompt);
  return withParams(run, (params) => ({ step: run.step, tokens: tokenNames(run, prompt), ...attentionPatterns(run.config, params, [prompt], { layers: args.layers }) }));
};
