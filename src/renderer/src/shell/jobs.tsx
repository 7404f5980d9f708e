import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import type { WorkbenchEvent } from '../../../shared/api';
import type { Metrics } from '../../../shared/modelConfig';
import { useApi } from './api';
import { applyModelLoading, type ModelLoad } from './modelLoading';

export interface CurvePoint {
  step: number;
  loss: number;
  metrics?: Metrics;
}

export interface JobState {
  jobId: string;
  runId: string;
  kind: 'train' | 'study';
  label: string;
  /** 'queued': waiting for a free slot in the scheduler (`position` 1 = next). */
  status: 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';
  position?: number;
  step: number;
  totalSteps: number;
  stepsPerSecond: number;
  etaSeconds: number;
  /** Every progress event's loss (and metrics, where the job evaluated). */
  curve: CurvePoint[];
  /** Log lines (study stages) and the failure message. */
  log: string[];
  startedAt: number;
}

interface Jobs {
  jobs: JobState[];
  /** Registers a job the UI just started so its events have a home. */
  track(job: { jobId: string; runId: string; kind: JobState['kind']; label: string }): void;
  /** Bumps when a job ends or the workspace changes: lists re-fetch on it. */
  generation: number;
  /** Big model folders the backend is reading for an analysis (`model-loading` events), until each is loaded. */
  loading: ModelLoad[];
  /** Sweeps queued or running (from `sweep-state` events), by name; ended ones are dropped. */
  sweeps: Record<string, 'queued' | 'running'>;
}

const JobsContext = createContext<Jobs>({ jobs: [], track: () => {}, generation: 0, loading: [], sweeps: {} });

/** Applies a sweep-state event to the live sweeps (pure). */
export function applySweepState(sweeps: Record<string, 'queued' | 'running'>, e: WorkbenchEvent): Record<string, 'queued' | 'running'> {
  if (e.kind !== 'sweep-state') return sweeps;
  const { [e.sweep]: _gone, ...rest } = sweeps;
  void _gone;
  return e.state === 'queued' || e.state === 'running' ? { ...rest, [e.sweep]: e.state } : rest;
}

export function useJobs(): Jobs {
  return useContext(JobsContext);
}

/** Applies one pushed event to the job list (pure; tested without a DOM). */
export function applyEvent(jobs: JobState[], e: WorkbenchEvent): JobState[] {
  if (!('jobId' in e)) return jobs;
  let found = false;
  const next = jobs.map((j): JobState => {
    if (j.jobId !== e.jobId) return j;
    found = true;
    switch (e.kind) {
      case 'progress':
        return {
          ...j,
          step: e.step,
          totalSteps: e.totalSteps,
          stepsPerSecond: e.stepsPerSecond,
          etaSeconds: e.etaSeconds,
          curve: [...j.curve, { step: e.step, loss: e.loss, metrics: e.metrics }],
        };
      case 'log':
        return { ...j, log: [...j.log, e.message] };
      case 'queued':
        return { ...j, status: 'queued', position: e.position };
      case 'started':
        return { ...j, status: 'running', position: undefined, startedAt: Date.now() };
      case 'finished':
        return { ...j, status: e.status === 'cancelled' ? 'cancelled' : 'completed', etaSeconds: 0 };
      case 'failed':
        return { ...j, status: 'failed', log: [...j.log, e.message] };
      default:
        return j;
    }
  });
  // Events of a job started elsewhere (another window, the menu) still get a row; a queued job's first
  // event arrives before the caller that started it can track it.
  if (!found && e.kind === 'progress') {
    next.push({ ...newJob({ jobId: e.jobId, runId: e.runId, kind: 'train', label: e.runId }), step: e.step, totalSteps: e.totalSteps, curve: [{ step: e.step, loss: e.loss, metrics: e.metrics }] });
  }
  if (!found && e.kind === 'queued') next.push({ ...newJob({ jobId: e.jobId, runId: e.runId, kind: 'train', label: e.runId }), status: 'queued', position: e.position });
  return next;
}

function newJob(j: { jobId: string; runId: string; kind: JobState['kind']; label: string }): JobState {
  return { ...j, status: 'running', step: 0, totalSteps: 0, stepsPerSecond: 0, etaSeconds: NaN, curve: [], log: [], startedAt: Date.now() };
}

export function JobsProvider({ children, onMenu }: { children: ReactNode; onMenu?: (e: WorkbenchEvent) => void }) {
  const api = useApi();
  const [jobs, setJobs] = useState<JobState[]>([]);
  const [generation, setGeneration] = useState(0);
  const [loading, setLoading] = useState<ModelLoad[]>([]);
  const [sweeps, setSweeps] = useState<Record<string, 'queued' | 'running'>>({});
  useEffect(() => {
    if (!api.onEvent) return;
    return api.onEvent((e) => {
      if (e.kind === 'model-loading') {
        setLoading((ls) => applyModelLoading(ls, e));
        return;
      }
      if (e.kind === 'menu' || e.kind === 'workspace-changed' || e.kind === 'models-changed') {
        if (e.kind !== 'menu') setGeneration((g) => g + 1);
        onMenu?.(e);
        return;
      }
      if (e.kind === 'sweep-state') {
        setSweeps((sw) => applySweepState(sw, e));
        if (e.state !== 'queued' && e.state !== 'running') setGeneration((g) => g + 1);
        return;
      }
      setJobs((js) => applyEvent(js, e));
      if (e.kind === 'finished' || e.kind === 'failed') setGeneration((g) => g + 1);
    });
  }, [api, onMenu]);
  const track = useCallback((j: { jobId: string; runId: string; kind: JobState['kind']; label: string }) => {
    setJobs((js) => (js.some((x) => x.jobId === j.jobId) ? js.map((x) => (x.jobId === j.jobId ? { ...x, kind: j.kind, label: j.label } : x)) : [...js, newJob(j)]));
    setGeneration((g) => g + 1);
  }, []);
  return <JobsContext.Provider value={{ jobs, track, generation, loading, sweeps }}>{children}</JobsContext.Provider>;
}
