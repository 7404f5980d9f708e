import type { LoraVsSteeringAnalysis } from '../../../../shared/analysis';
import type { StudySummary } from '../../../../shared/api';
import { useApi } from '../../shell/api';
import { useJobs } from '../../shell/jobs';
import { useAsync, type AsyncState } from '../../shell/useAsync';

type Loaded<T> = AsyncState<T> & { reload: () => void };

/** The workspace's LoRA-vs-steering studies; re-read when a job ends (a study job writes a new one). */
export function useStudies(): Loaded<StudySummary[]> {
  const api = useApi();
  const { generation } = useJobs();
  return useAsync(`studies#${generation}`, () => api.listStudies());
}

/** One study's full record (null id: nothing to load). */
export function useStudy(id: string | null): Loaded<LoraVsSteeringAnalysis> {
  const api = useApi();
  return useAsync(id === null ? null : `study#${id}`, () => api.getStudy({ id: id as string }));
}
