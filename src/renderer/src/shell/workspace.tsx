import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import type { ModelSummary, RunSummary } from '../../../shared/api';
import { useApi } from './api';
import { useJobs } from './jobs';
import { useAsync, type AsyncState } from './useAsync';

interface Workspace {
  runs: AsyncState<RunSummary[]> & { reload: () => void };
  /** Hugging Face model folders (in the workspace, or opened by path), listed apart from runs. */
  models: AsyncState<ModelSummary[]> & { reload: () => void };
  /** The run (or model) the analysis views show (set from Runs → Open, or each view's run picker). */
  runId: string | null;
  setRunId(id: string | null): void;
  /** A second run for side-by-side comparisons (Runs → Compare): the first of `compareIds`. */
  compareId: string | null;
  /** Compares this one run alone (null: none). */
  setCompareId(id: string | null): void;
  /** Every run ticked for comparison in Runs, in the order ticked (kept here so it outlives the view). */
  compareIds: readonly string[];
  setCompareIds(ids: readonly string[]): void;
}

const WorkspaceContext = createContext<Workspace | null>(null);

export function useWorkspace(): Workspace {
  const w = useContext(WorkspaceContext);
  if (!w) throw new Error('useWorkspace outside WorkspaceProvider');
  return w;
}

export function WorkspaceProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const { generation } = useJobs();
  const runs = useAsync(`runs#${generation}`, () => api.listRuns());
  const models = useAsync(`models#${generation}`, () => api.listModels());
  const [runId, setRunId] = useState<string | null>(null);
  const [compareIds, setCompareIds] = useState<readonly string[]>([]);
  const compareId = compareIds[0] ?? null;
  const setCompareId = useCallback((id: string | null) => setCompareIds(id ? [id] : []), []);
  const value = useMemo(() => ({ runs, models, runId, setRunId, compareId, setCompareId, compareIds, setCompareIds }), [runs, models, runId, compareId, setCompareId, compareIds]);
  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}

/** The model named `id`, when it is one that opens (listed without an error). */
export function modelById(models: readonly ModelSummary[] | undefined, id: string | null): ModelSummary | null {
  return (id && models?.find((m) => m.id === id && !m.error)) || null;
}

/**
 * Picks a default run for a view: the selected run when it qualifies, else the first that does.
 * `accept` decides which runs a view can show (e.g. runs with checkpoints).
 */
export function pickRun(runs: readonly RunSummary[] | undefined, selected: string | null, accept: (r: RunSummary) => boolean): string | null {
  if (!runs) return null;
  if (selected && runs.some((r) => r.id === selected && accept(r))) return selected;
  return runs.find(accept)?.id ?? null;
}
