import { useMemo, useState, type ReactNode } from 'react';
import { errorMessage, useReportError } from '../../../shell/errors';
import type { JobState } from '../../../shell/jobs';
import { CurvePanel } from '../../../figure/StepChart';
import { jobCurves, splitStages, stageNames } from '../jobCurves';
import { jobOutcome, progressText, stageLines } from '../trainData';

/**
 * One job's live state, all from the jobs context (so it survives leaving the view): progress bar,
 * rate and ETA, Cancel, the loss and accuracy curves as events arrive, the log (study stages), and
 * once it ends, how it ended with a way to open what it wrote.
 */
export function JobMonitor({ job, prefix, onCancel, actions }: { job: JobState; prefix: 'train' | 'study'; onCancel: (jobId: string) => Promise<{ cancelled: boolean }>; actions?: ReactNode }) {
  const report = useReportError();
  const [cancelling, setCancelling] = useState<string | null>(null);
  const [cancelNote, setCancelNote] = useState<{ jobId: string; text: string; error: boolean } | null>(null);
  const names = useMemo(() => stageNames(job.log), [job.log]);
  const curves = useMemo(() => jobCurves(job.curve, 600, names), [job.curve, names]);
  const stages = useMemo(() => splitStages(job.curve).length, [job.curve]);
  const outcome = jobOutcome(job);
  const log = stageLines(job);
  // A queued job can be cancelled before it starts, as a running one after its current step.
  const running = job.status === 'running' || job.status === 'queued';
  const note = cancelNote?.jobId === job.jobId ? cancelNote : null;

  const cancel = async () => {
    setCancelling(job.jobId);
    setCancelNote(null);
    try {
      const r = await onCancel(job.jobId);
      if (!r.cancelled) setCancelNote({ jobId: job.jobId, text: 'The job had already ended.', error: false });
    } catch (err) {
      setCancelNote({ jobId: job.jobId, text: `Could not cancel: ${errorMessage(err)}`, error: true });
      report(err, `Cancel ${job.label}`);
    } finally {
      setCancelling(null);
    }
  };

  return (
    <section className="train__job" aria-label={`Job ${job.label}`} data-testid={`${prefix}-job`} data-job-id={job.jobId} data-status={job.status}>
      <div className="train__job-head">
        <strong className="train__job-label">{job.label}</strong>
        <span className={`train__status train__status--${outcome.tone}`} data-testid={`${prefix}-status`}>
          {job.status}
        </span>
        {running && (
          <button type="button" className="danger" onClick={cancel} disabled={cancelling === job.jobId} data-testid={`${prefix}-cancel`}>
            {cancelling === job.jobId ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      <progress className="progress" value={job.step} max={Math.max(1, job.totalSteps)} data-testid={`${prefix}-progress`} />
      <div className="train__eta">
        {prefix === 'study' && stages > 0 && (
          <span className="train__stage" data-testid={`${prefix}-stage`}>
            stage {stages}
            {names[stages - 1] ? ` (${names[stages - 1]})` : ''} ·{' '}
          </span>
        )}
        <span data-testid={`${prefix}-eta`}>{progressText(job)}</span>
      </div>
      {note && (
        <p className={note.error ? 'view__error' : 'train__hint'} role={note.error ? 'alert' : undefined}>
          {note.text}
        </p>
      )}
      {!running && (
        <div className={`train__outcome train__outcome--${outcome.tone}`} data-testid={`${prefix}-outcome`} role={outcome.tone === 'error' ? 'alert' : 'status'}>
          <span>{outcome.text}</span>
          {actions}
        </div>
      )}
      {log.length > 0 && (
        <ol className="train__log" data-testid={`${prefix}-log`} aria-label="Stages">
          {log.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ol>
      )}
      <div className="view__grid">
        <CurvePanel
          title="Training loss"
          caption={stages > 1 ? 'Loss of each stage (log scale), as progress arrives.' : 'Loss at each reported step (log scale), as progress arrives.'}
          fileName={`training-loss-${job.runId}`}
          series={curves.loss}
          yLog
          xMax={stages > 1 ? undefined : job.totalSteps}
          yLabel="loss"
          empty="Waiting for the first step…"
          testId={`${prefix}-loss-chart`}
        />
        <CurvePanel
          title="Accuracy by split"
          caption={stages > 1 ? 'Accuracy of each split in the latest stage that evaluated.' : 'Accuracy of each evaluation split at the logged steps.'}
          fileName={`training-accuracy-${job.runId}`}
          series={curves.acc}
          yLabel="accuracy"
          xMax={stages > 1 ? undefined : job.totalSteps}
          empty="Waiting for the first evaluation…"
          testId={`${prefix}-acc-chart`}
        />
      </div>
    </section>
  );
}
