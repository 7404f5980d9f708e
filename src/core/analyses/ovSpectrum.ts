import { ApiArgumentError } from '../../shared/errors';
import { ovSpectrum as spectra } from '../analysis/ovSpectrum';
import type { AnalysisRunner } from './runner';

export const ovSpectrum: AnalysisRunner<'ov-spectrum'> = (target, args) => {
  const { config, checkpoints } = target.checkpoints();
  const chosen = args.step === undefined ? checkpoints : checkpoints.filter((c) => c.step === args.step);
  if (!chosen.length) throw new ApiArgumentError(`${target.id}: no checkpoint at step ${args.step} (saved steps: ${checkpoints.map((c) => c.step).join(', ')})`);
  return { ov: config.ov, ovRank: config.ov === 'factorized' ? config.ovRank : undefined, ...spectra(config, chosen, { top: args.top }) };
};
