import type { LensAnalysis, PatchingAnalysis } from '../../../../shared/api';
import { analyzeAs, useApi } from '../../shell/api';
import { useAsync, type AsyncState } from '../../shell/useAsync';

export interface LensArgs {
  runId: string | null;
  /** null: wait (the run's checkpoints are not known yet). */
  step: number | null;
  prompt: string;
  answer: string;
  topK: number;
}

/** Logit lens and direct logit attribution of one checkpoint for one prompt. */
export function useLens({ runId, step, prompt, answer, topK }: LensArgs): AsyncState<LensAnalysis> & { reload: () => void } {
  const api = useApi();
  const key = runId !== null && step !== null ? JSON.stringify(['logit-lens', runId, step, prompt, answer, topK]) : null;
  return useAsync(key, () => analyzeAs(api, { kind: 'logit-lens', id: runId as string, step: step as number, prompt: prompt || undefined, answer: answer || undefined, topK }));
}

export interface PatchingArgs {
  runId: string | null;
  step: number | null;
  prompt: string;
  /** '' = the backend picks a corrupted prompt. */
  corrupt: string;
  answer: string;
  /** '' = the model's prediction on the corrupted prompt. */
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
