import { ApiArgumentError } from '../../shared/errors';
import { ovSpectrumOfParams, ovSpectrum as spectra } from '../analysis/ovSpectrum';
import type { AnalysisRunner } from './runner';

export const ovSpectrum: AnalysisRunner<'ov-spectrum'> = (target, args) => {
  if (target.source === 'model') {
    // One set of weights (step 0); the d_head values W_O W_V can have, per query head (GQA: its key/value head's W_V).
    const m = target.open(args.step);
    return { ov: m.config.ov, ...m.withParams((p) => ovSpectrumOfParams(m.config, p, { top: args.top })) };
  }
  const { config, checkpoints } = target.checkpoints();
  const chosen = args.step === undefined ? checkpoints : checkpoints.filter((c) => c.step === args.step);
  if (!chosen.length) throw new ApiArgumentError(`${target.id}: no checkpoint at step ${args.step} (saved steps: ${checkpoints.map((c) => c.step).join(', ')})`);
  return { ov: config.ov, ovRank: config.ov === 'factorized' ? config.ovRank : undefined, ...spectra(config, chosen, { top: args.top }) };
};
