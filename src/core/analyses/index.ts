import type { AnalysisKind, AnalysisResult, ResolvedAnalysisRequest } from '../../shared/analyses';
import { attention } from './attention';
import { logitLens } from './logitLens';
import { loraDeltas } from './loraDeltas';
import { ovSpectrum } from './ovSpectrum';
import { patching } from './patching';
import { projection } from './projection';
import type { AnalysisRunner } from './runner';
import type { AnalysisTarget } from './target';

export { modelTarget, runTarget, targetFor, type AnalysisTarget } from './target';

/** The analysis registry, core half: one runner per kind of src/shared/analyses (the compiler checks both lists agree). */
export const RUNNERS: { [K in AnalysisKind]: AnalysisRunner<K> } = {
  attention,
  'logit-lens': logitLens,
  patching,
  'ov-spectrum': ovSpectrum,
  projection,
  'lora-deltas': loraDeltas,
};

/**
 * One validated request on a target: the function behind the API's `analyze` (in the analysis worker)
 * and `oocr analyze`, so both give the same JSON.
 */
export function runAnalysis(target: AnalysisTarget, req: ResolvedAnalysisRequest): AnalysisResult {
  const { kind, id: _id, adapter, ...args } = req;
  const run = RUNNERS[kind] as AnalysisRunner<typeof kind>;
  return { kind, id: target.id, ...(adapter ? { adapter } : {}), ...run(target, args as never) } as AnalysisResult;
}
