import { useState } from 'react';
import type { ModelSummary, PromptSamples, RunDetails } from '../../../../shared/api';
import { useApi } from '../api';
import { hasCheckpoints } from '../RunPicker';
import { useAsync, type AsyncState } from '../useAsync';
import { modelById, pickRun, useWorkspace } from '../workspace';

export interface RunInputs {
  /**
   * The run shown: the workspace's selected run when it has checkpoints, else the first that does; in
   * views that take models (`useRunInputs({ models: true })`), the selected model, or the first model
   * when no run qualifies.
   */
  runId: string | null;
  /** The model shown, when `runId` is one: its prompts are text, it has one set of weights (step 0). */
  model: ModelSummary | null;
  setRunId(id: string): void;
  /** The run's details; `data` is only ever the current run's (never a previous run's, while loading). */
  details: AsyncState<RunDetails>;
  samples: AsyncState<PromptSamples>;
  /** Prompt text (a run: space-separated tokens; a model: text; '' = let the backend choose), reset when the run changes. */
  prompt: string;
  setPrompt(text: string): void;
}

/**
 * What the analysis views share: run choice (through the workspace), its details, example prompts and
 * the prompt. With `models`, a model of the workspace may be chosen too (no run details or example
 * prompts are fetched for it: its prompts are typed text).
 */
export function useRunInputs(opts: { models?: boolean } = {}): RunInputs {
  const api = useApi();
  const ws = useWorkspace();
  const models = opts.models ? ws.models.data : undefined;
  const model = modelById(models, ws.runId) ?? (ws.runs.data && !pickRun(ws.runs.data, ws.runId, hasCheckpoints) ? (models?.find((m) => !m.error) ?? null) : null);
  const runId = model ? model.id : pickRun(ws.runs.data, ws.runId, hasCheckpoints);
  const runKey = runId && !model ? runId : null;
  const details = useAsync(runKey ? `run:${runKey}` : null, () => api.getRun({ id: runKey as string }));
  const samples = useAsync(runKey ? `samples:${runKey}` : null, async () => ({ id: runKey as string, samples: await api.samplePrompts({ id: runKey as string }) }));
  const [prompt, setPrompt] = usePerRun(runId, { text: '' });
  return {
    runId,
    model,
    setRunId: ws.setRunId,
    details: onlyFor(details, runId, (d) => d.id, (d) => d),
    samples: onlyFor(samples, runId, (s) => s.id, (s) => s.samples),
    prompt: prompt.text,
    setPrompt: (text) => setPrompt({ text }),
  };
}

/**
 * Choices that belong to one run (steps, prompt, answer…): they read as `initial` while another run
 * is shown, so a run change starts over from the defaults. `set` merges a patch into the current
 * run's choices.
 */
export function usePerRun<T extends object>(runId: string | null, initial: T): [T, (patch: Partial<T>) => void] {
  const [state, setState] = useState<{ runId: string | null; choices: T }>({ runId, choices: initial });
  const mine = state.runId === runId ? state.choices : initial;
  return [mine, (patch) => setState({ runId, choices: { ...mine, ...patch } })];
}

/** Drops data that belongs to another run (useAsync keeps the last answer while the next one loads). */
function onlyFor<T, U>(s: AsyncState<T>, runId: string | null, idOf: (t: T) => string, map: (t: T) => U): AsyncState<U> {
  const data = s.data !== undefined && idOf(s.data) === runId ? map(s.data) : undefined;
  if (s.status === 'ready') return data !== undefined ? { status: 'ready', data } : { status: 'loading' };
  if (s.status === 'error') return { status: 'error', error: s.error, data };
  if (s.status === 'loading') return { status: 'loading', data };
  return { status: 'idle' };
}
