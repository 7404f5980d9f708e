import { useWorkspace } from '../workspace';
import type { RunInputs } from './useRunInputs';

/**
 * What went wrong choosing the run and its inputs (runs not listed, no run with checkpoints, run
 * details or example prompts not loaded), for the views built on useRunInputs.
 */
export function RunInputsStatus({ input }: { input: RunInputs }) {
  const { runs } = useWorkspace();
  const { runId, details, samples } = input;
  return (
    <>
      {runs.status === 'error' && (
        <p className="view__error" role="alert">
          Could not list runs: {runs.error}
        </p>
      )}
      {runs.data && !runId && <p className="view__empty">No run with checkpoints in this workspace: train one first.</p>}
      {details.status === 'error' && (
        <p className="view__error" role="alert">
          Could not open run {runId}: {details.error}
        </p>
      )}
      {samples.status === 'error' && (
        <p className="view__error" role="alert">
          Could not load example prompts: {samples.error} (typed prompts are not checked against the vocabulary)
        </p>
      )}
    </>
  );
}
