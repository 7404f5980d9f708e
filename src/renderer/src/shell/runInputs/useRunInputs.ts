import { useState } from 'react';
import type { PromptSamples, RunDetails } from '../../../../shared/api';
import { useApi } from '../api';
import { hasCheckpoints } from '../RunPicker';
import { useAsync, type AsyncState } from '../useAsync';
import { pickRun, useWorkspace } from '../workspace';

export interface RunInputs {
  /** The run shown: the workspace's selected run when it has checkpoints, else the first that does. */
  runId: string | null;
  setRunId(id: string): void;
  /** The run's details; `data` is only ever the current run's (never a previous run's, while loading). */
  details: AsyncState<RunDetails>;
  samples: AsyncState<PromptSamples>;
  /** Prompt text (space-separated tokens; '' = let the backend choose), reset when the run changes. */
  prompt: string;
  setPrompt(text: string): void;
}

/** What the analysis views share: run choice (through the workspace), its details, example prompts and the prompt. */
export function useRunInputs(): RunInputs {
  const api = useApi();
  const ws = useWorkspace();
  const runId = pickRun(ws.runs.data, ws.runId, hasCheckpoints);
  const details = useAsync(runId ? `run:${runId}` : null, () => api.getRun({ id: runId as string }));
  const samples = useAsync(runId ? `samples:${runId}` : null, async () => ({ id: runId as string, samples: await api.samplePrompts({ id: runId as string }) }));
  const [prompt, setPrompt] = usePerRun(runId, { text: '' });
  return {
    runId,
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
