import { useCallback } from 'react';
import { useApi } from '../../shell/api';
import { useJobs } from '../../shell/jobs';
import { useAsync } from '../../shell/useAsync';
import type { StudyRequest, TrainRequest } from './trainData';

/**
 * The Train view's API: presets for the form, starting training and studies (registered with the
 * jobs context, which keeps their live state when the view is left), and cancelling a job.
 */
export function useTrainData() {
  const api = useApi();
  const { jobs, track } = useJobs();
  const presets = useAsync('presets', () => api.listPresets());

  const startTraining = useCallback(
    async (req: TrainRequest) => {
      const r = await api.startTraining(req);
      track({ jobId: r.jobId, runId: r.runId, kind: 'train', label: `${r.runId} (${req.preset})` });
      return r;
    },
    [api, track],
  );

  const startStudy = useCallback(
    async (req: StudyRequest) => {
      const r = await api.startStudy(req);
      track({ jobId: r.jobId, runId: r.runId, kind: 'study', label: `${r.runId} (${req.kind}, seed ${req.seed})` });
      return r;
    },
    [api, track],
  );

  const cancel = useCallback((jobId: string) => api.cancel({ jobId }), [api]);

  return { presets, jobs, startTraining, startStudy, cancel };
}
