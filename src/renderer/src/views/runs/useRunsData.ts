import { useEffect, useMemo, useState } from 'react';
import type { RunDetails, StudySummary, SweepListItem } from '../../../../shared/api';
import { useApi } from '../../shell/api';
import { errorMessage } from '../../shell/errors';
import { useJobs, type JobState } from '../../shell/jobs';
import { useAsync } from '../../shell/useAsync';
import { useWorkspace } from '../../shell/workspace';
import { defaultRunId, unlistedRunIds } from './runsData';

/**
 * Everything the Runs view shows: the workspace's runs (shared with the other views), the selected
 * and compared runs' details (each compared run read on its own: one that fails keeps its error), the LoRA-vs-steering studies, and the jobs still writing to runs.
 * Lists re-fetch when a job ends (jobs' generation); a run being trained re-fetches as it goes.
 */
/** A compared run's details, or why they could not be read. */
export interface ComparedRun {
  id: string;
  data?: RunDetails;
  error?: string;
}

export function useRunsData() {
  const api = useApi();
  const ws = useWorkspace();
  const { jobs, generation } = useJobs();
  const { runs, runId, setRunId, compareIds } = ws;
  // A model chosen for the analysis views stays chosen; this view then shows no run's details.
  const isModel = Boolean(runId && ws.models.data?.some((m) => m.id === runId));

  // Nothing selected yet (or the selection vanished): show the first readable run.
  useEffect(() => {
    if (!runs.data || isModel) return;
    const id = defaultRunId(runs.data, runId);
    if (id !== runId) setRunId(id);
  }, [runs.data, runId, setRunId, isModel]);

  const liveJobs = useMemo(() => {
    const m = new Map<string, JobState>();
    for (const j of jobs) if (j.status === 'running') m.set(j.runId, j);
    return m;
  }, [jobs]);

  // A training started a moment ago may not have written run.json when the list was fetched: once
  // it reports progress, fetch the list again so its row appears while it runs.
  const unlisted = unlistedRunIds(jobs, runs.data).join('\n');
  const reloadRuns = runs.reload;
  useEffect(() => {
    if (unlisted) reloadRuns();
  }, [unlisted, reloadRuns]);

  // While the selected run trains, re-read it about ten times over the job.
  const live = runId ? liveJobs.get(runId) : undefined;
  const tick = live ? Math.floor(live.step / Math.max(1, live.totalSteps / 10)) : 0;
  const detail = useAsync<RunDetails>(runId && !isModel ? `run:${runId}#${generation}.${tick}` : null, () => api.getRun({ id: runId ?? '' }));
  const tickOf = (id: string) => {
    const j = liveJobs.get(id);
    return j ? Math.floor(j.step / Math.max(1, j.totalSteps / 10)) : 0;
  };
  const others = compareIds.filter((id) => id !== runId);
  const compareKey = others.length ? `runs:${others.map((id) => `${id}.${tickOf(id)}`).join('\n')}#${generation}` : null;
  const compare = useAsync<ComparedRun[]>(compareKey, () =>
    Promise.all(
      others.map((id) =>
        api.getRun({ id }).then(
          (data): ComparedRun => ({ id, data }),
          (err: unknown): ComparedRun => ({ id, error: errorMessage(err) }),
        ),
      ),
    ),
  );
  const studies = useAsync<StudySummary[]>(`studies#${generation}`, () => api.listStudies());

  // Sweeps: their cells are grouped under one row each; a cell starting or ending re-reads both lists.
  const [sweepGen, setSweepGen] = useState(0);
  const sweeps = useAsync<SweepListItem[]>(`sweeps#${generation}.${sweepGen}`, () => api.listSweeps());
  useEffect(() => {
    if (!api.onEvent) return;
    return api.onEvent((e) => {
      if (e.kind !== 'sweep-cell' && e.kind !== 'sweep-state') return;
      setSweepGen((g) => g + 1);
      reloadRuns();
    });
  }, [api, reloadRuns]);

  return { ...ws, isModel, liveJobs, detail, compare, studies, sweeps };
}
