import { useState } from 'react';
import type { RunDetails } from '../../../../../shared/api';
import { useApi } from '../../../shell/api';
import { errorMessage, useReportError } from '../../../shell/errors';
import { useJobs } from '../../../shell/jobs';
import { canResume } from '../runsData';

/**
 * Resume for a training run that stopped before its last step (cancelled, failed, or interrupted: its
 * process died): the run continues from its last checkpoint, with its optimizer and data state, as a
 * job like any other (queued if the scheduler is full), and ends as if it had never stopped.
 */
export function ResumeRun({ details }: { details: RunDetails }) {
  const api = useApi();
  const report = useReportError();
  const { jobs, track } = useJobs();
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const live = jobs.some((j) => j.runId === details.id && (j.status === 'running' || j.status === 'queued'));
  if (!canResume(details) || live) return null;
  const resume = async () => {
    setState({ busy: true, error: null });
    try {
      const r = await api.resumeRun({ id: details.id });
      track({ jobId: r.jobId, runId: r.runId, kind: 'train', label: `${r.runId} (resumed at step ${details.manifest.step})` });
      setState({ busy: false, error: null });
    } catch (err) {
      setState({ busy: false, error: errorMessage(err) });
      report(err, `Resume ${details.id}`);
    }
  };
  return (
    <p className="runs__resume" data-testid="run-resume">
      This run stopped at step {details.manifest.step} of {details.manifest.config.steps} ({details.manifest.status}).{' '}
      <button type="button" onClick={resume} disabled={state.busy} data-testid="run-resume-button">
        {state.busy ? 'Resuming…' : 'Resume'}
      </button>
      {state.error && (
        <span className="view__error" role="alert">
          {' '}
          {state.error}
        </span>
      )}
    </p>
  );
}
