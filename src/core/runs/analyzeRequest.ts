import { ANALYSES, type AnalysisRequest, type AnalysisResult, type ResolvedAnalysisRequest } from '../../shared/analyses';
import { ApiArgumentError } from '../../shared/errors';
import { formatZodIssues } from '../../shared/zodIssues';
import { runAnalysis, targetFor } from '../analyses';
import type { LoadOptions } from '../hf/loadHfModel';

/**
 * One `analyze` request on a run folder or a Hugging Face model folder `dir` (with an optional PEFT
 * adapter folder), resolved and checked to lie in the workspace or named on the command line: what the
 * analysis worker runs. The kind's arguments are checked (and their defaults filled) here too, so every
 * caller gets the same validation. `load.onProgress` hears a model folder's weights being read, when
 * they are not cached yet.
 */
export function analyzeRequest(dir: string, req: AnalysisRequest, adapterDir?: string, load: LoadOptions = {}): AnalysisResult {
  const { kind, id, adapter, ...args } = req;
  const spec = ANALYSES[kind];
  if (!spec) throw new ApiArgumentError(`unknown analysis '${String(kind)}'`);
  const parsed = spec.args.safeParse(args);
  if (!parsed.success) throw new ApiArgumentError(`${kind}: ${formatZodIssues(parsed.error, { whole: '(args)' }).split('\n').join('; ')}`);
  if (adapter !== undefined && adapterDir === undefined) throw new Error('internal: an adapter id without its folder');
  return runAnalysis(targetFor(dir, id, adapterDir, load), { kind, id, ...(adapter !== undefined ? { adapter } : {}), ...parsed.data } as ResolvedAnalysisRequest);
}
