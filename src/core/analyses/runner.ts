import type { AnalysisKind, AnalysisResults, ResolvedAnalysisArgs } from '../../shared/analyses';
import type { AnalysisTarget } from './target';

/**
 * The core half of an analysis registry entry: a target and the kind's (validated, defaulted)
 * arguments in, plain data out. The registry adds `kind` and `id`.
 */
export type AnalysisRunner<K extends AnalysisKind> = (target: AnalysisTarget, args: ResolvedAnalysisArgs<K>) => Omit<AnalysisResults[K], 'kind' | 'id'>;
