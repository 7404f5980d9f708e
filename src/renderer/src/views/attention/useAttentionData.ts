import type { AttentionAnalysis } from '../../../../shared/api';
import { analyzeAs, useApi } from '../../shell/api';
import { useAsync, type AsyncState } from '../../shell/useAsync';

/** Attention patterns of one checkpoint for one prompt (null step: wait). */
export function useAttention(runId: string | null, step: number | null, prompt: string): AsyncState<AttentionAnalysis> & { reload: () => void } {
  const api = useApi();
  const key = runId !== null && step !== null ? JSON.stringify(['attention', runId, step, prompt]) : null;
  return useAsync(key, () => analyzeAs(api, { kind: 'attention', id: runId as string, step: step as number, prompt: prompt || undefined }));
}
