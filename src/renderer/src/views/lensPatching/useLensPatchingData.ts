import type { LensAnalysis, PatchingAnalysis } from '../../../../shared/api';
import type { DlaAttribution } from '../../../../shared/analyses/logitLens';
import { analyzeAs, useApi } from '../../shell/api';
import { useAsync, type AsyncState } from '../../shell/useAsync';

export interface LensArgs {
  runId: string | null;
  /** null: wait (the run's checkpoints are not known yet). */
  step: number | null;
  prompt: string;
  /** '' = the task's true answer where known, else the model's top prediction. */
  answer: string;
  topK: number;
  /** What direct logit attribution decomposes. */
  attribution: DlaAttribution;
  /** The token DLA subtracts ('' = the backend's choice; logit-diff only). */
  wrong: string;
}

/** Logit lens and direct logit attribution of one checkpoint for one prompt. */
export function useLens({ runId, step, prompt, answer, topK, attribution, wrong }: LensArgs): AsyncState<LensAnalysis> & { reload: () => void } {
  const api = useApi();
  const key = runId !== null && step !== null ? JSON.stringify(['logit-lens', runId, step, prompt, answer, topK, attribution, wrong]) : null;
  return useAsync(key, () =>
    analyzeAs(api, { kind: 'logit-lens', id: runId as string, step: step as number, prompt: prompt || undefined, answer: answer || undefined, topK, attribution, wrong: wrong || undefined }),
  );
}

export interface PatchingArgs {
  runId: string | null;
  step: number | null;
  prompt: string;
  /** '' = the backend picks a corrupted prompt. */
  corrupt: string;
  answer: string;
  /** '' = the corrupted prompt's true answer, else the model's prediction on it. */
  wrong: string;
}

/** Activation patching (residual stream and heads) from a corrupted run towards the clean one. */
export function usePatching({ runId, step, prompt, corrupt, answer, wrong }: PatchingArgs): AsyncState<PatchingAnalysis> & { reload: () => void } {
  const api = useApi();
  const key = runId !== null && step !== null ? JSON.stringify(['patching', runId, step, prompt, corrupt, answer, wrong]) : null;
  return useAsync(key, () =>
    analyzeAs(api, { kind: 'patching', id: runId as string, step: step as number, prompt: prompt || undefined, corrupt: corrupt || undefined, answer: answer || undefined, wrong: wrong || undefined }),
  );
}
