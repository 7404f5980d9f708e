import { useCallback } from 'react';
import type { SaeDetails, SaeFeaturesResult, SaeSummary, StudySummary } from '../../../../shared/api';
import { useApi } from '../../shell/api';
import { useJobs } from '../../shell/jobs';
import { useAsync, type AsyncState } from '../../shell/useAsync';
import type { StartSaeRequest } from './saeData';

type Loaded<T> = AsyncState<T> & { reload: () => void };

/** The workspace's SAEs (re-read when a job ends). */
export function useSaes(): Loaded<SaeSummary[]> {
  const api = useApi();
  const { generation } = useJobs();
  return useAsync(`saes#${generation}`, () => api.listSaes());
}

/** One SAE's details (null: none chosen). */
export function useSae(name: string | null): Loaded<SaeDetails> {
  const api = useApi();
  const { generation } = useJobs();
  return useAsync(name === null ? null : `sae#${name}#${generation}`, () => api.getSae({ name: name as string }));
}

/** LoRA-vs-steering studies (for cosines and interventions). */
export function useSaeStudies(): Loaded<StudySummary[]> {
  const api = useApi();
  const { generation } = useJobs();
  return useAsync(`sae-studies#${generation}`, () => api.listStudies());
}

/** The feature report of an SAE, with a study's vectors when one is chosen. */
export function useSaeFeatures(name: string | null, study: string | null): Loaded<SaeFeaturesResult> {
  const api = useApi();
  return useAsync(name === null ? null : JSON.stringify(['sae-features', name, study]), () => api.saeFeatures({ name: name as string, ...(study ? { study } : {}), top: 12, examples: 8, evalSamples: 50 }));
}

/** Starting an SAE job (tracked by the jobs context, so its progress survives leaving the view) and cancelling it. */
export function useSaeJobs() {
  const api = useApi();
  const { jobs, track } = useJobs();
  const start = useCallback(
    async (req: StartSaeRequest) => {
      const r = await api.startSae(req);
      track({ jobId: r.jobId, runId: r.runId, kind: 'train', label: `SAE ${req.name} (${req.hook} of ${req.id})` });
      return r;
    },
    [api, track],
  );
  const cancel = useCallback((jobId: string) => api.cancel({ jobId }), [api]);
  return { jobs, start, cancel };
}
