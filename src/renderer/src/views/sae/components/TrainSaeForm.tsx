import { useMemo, useState } from 'react';
import type { RunSummary } from '../../../../../shared/api';
import { CurvePanel } from '../../../figure/StepChart';
import { errorMessage, useReportError } from '../../../shell/errors';
import type { JobState } from '../../../shell/jobs';
import { DEFAULT_FORM, formRequest, hookOptions, jobCurvePoints, saeCurve, type SaeForm, type StartSaeRequest } from '../saeData';

function eta(s: number): string {
  if (!Number.isFinite(s)) return '…';
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
}

/**
 * Trains an SAE as a job: the run, hook, architecture (TopK k / ReLU L1), expansion, learning rate,
 * tokens and seed; then the job's progress, rate and ETA, its live loss / L0 / FVE, and Cancel (the
 * SAE trained so far is saved and evaluated).
 */
export function TrainSaeForm({
  runs,
  taken,
  job,
  onStart,
  onCancel,
  onOpen,
}: {
  runs: readonly RunSummary[];
  taken: ReadonlySet<string>;
  job: JobState | null;
  onStart: (req: StartSaeRequest) => Promise<void>;
  onCancel: (jobId: string) => Promise<{ cancelled: boolean }>;
  onOpen: (name: string) => void;
}) {
  const report = useReportError();
  const [form, setForm] = useState<SaeForm>(DEFAULT_FORM);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (p: Partial<SaeForm>) => setForm((f) => ({ ...f, ...p }));
  const eligible = runs.filter((r) => !r.error && (r.checkpoints ?? 0) > 0);
  const points = useMemo(() => jobCurvePoints(job?.curve ?? []), [job?.curve]);
  const live = job && (job.status === 'running' || job.status === 'queued');
  const name = job?.runId.replace(/^saes\//, '') ?? '';

  const submit = async () => {
    const r = formRequest(form, taken);
    if ('error' in r) {
      setError(r.error);
      return;
    }
    setError(null);
    setBusy(true);
    try {
      await onStart(r.request);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const field = (label: string, key: keyof SaeForm, width = '6rem') => (
    <label className="sae__field">
      {label}
      <input type="text" value={form[key]} onChange={(e) => set({ [key]: e.target.value })} style={{ width }} data-testid={`sae-form-${key}`} />
    </label>
  );

  return (
    <section className="sae__train" aria-label="Train an SAE" data-testid="sae-train">
      <form
        className="sae__form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {field('Name', 'name', '10rem')}
        <label className="sae__field">
          Run
          <select value={form.id} onChange={(e) => set({ id: e.target.value })} data-testid="sae-form-run">
            {!eligible.some((r) => r.id === form.id) && <option value={form.id}>{form.id}</option>}
            {eligible.map((r) => (
              <option key={r.id} value={r.id}>
                {r.id}
              </option>
            ))}
          </select>
        </label>
        <label className="sae__field">
          Hook
          <input type="text" list="sae-hooks" value={form.hook} onChange={(e) => set({ hook: e.target.value })} style={{ width: '14rem' }} data-testid="sae-form-hook" />
          <datalist id="sae-hooks">
            {hookOptions(2).map((h) => (
              <option key={h} value={h} />
            ))}
          </datalist>
        </label>
        <label className="sae__field">
          Architecture
          <select value={form.architecture} onChange={(e) => set({ architecture: e.target.value as SaeForm['architecture'] })} data-testid="sae-form-architecture">
            <option value="topk">TopK</option>
            <option value="relu">ReLU + L1</option>
          </select>
        </label>
        {field('Expansion', 'expansion', '3rem')}
        {form.architecture === 'topk' ? field('k', 'k', '3rem') : field('L1', 'l1', '4rem')}
        {field('Learning rate', 'lr', '5rem')}
        {field('Tokens', 'tokens', '6rem')}
        {field('Seed', 'seed', '3rem')}
        <button type="submit" disabled={busy || !!live} data-testid="sae-form-start">
          {busy ? 'Starting…' : 'Train SAE'}
        </button>
      </form>
      {error && (
        <p className="sae__error" role="alert" data-testid="sae-form-error">
          {error}
        </p>
      )}
      {job && (
        <div className="sae__job" data-testid="sae-job" data-status={job.status}>
          <div className="sae__job-head">
            <strong>{job.label}</strong>{' '}
            <span data-testid="sae-job-status">{job.status}</span>{' '}
            {live && (
              <button
                type="button"
                className="danger"
                data-testid="sae-job-cancel"
                onClick={() =>
                  onCancel(job.jobId).catch((err: unknown) => {
                    report(err, `Cancel ${job.label}`);
                    return { cancelled: false };
                  })
                }
              >
                Cancel
              </button>
            )}
            {!live && job.status !== 'failed' && (
              <button type="button" onClick={() => onOpen(name)} data-testid="sae-job-open">
                Open {name}
              </button>
            )}
          </div>
          <progress className="progress" value={job.step} max={Math.max(1, job.totalSteps)} data-testid="sae-job-progress" />
          <div className="sae__eta" data-testid="sae-job-eta">
            step {job.step} / {job.totalSteps || '…'}
            {job.status === 'running' && job.stepsPerSecond > 0 && ` · ${job.stepsPerSecond.toFixed(1)} steps/s · ETA ${eta(job.etaSeconds)}`}
            {points.length > 0 && points[points.length - 1].l0 !== undefined && ` · L0 ${points[points.length - 1].l0?.toFixed(2)} · FVE ${points[points.length - 1].fve?.toFixed(3)}`}
          </div>
          {job.status === 'failed' && <pre className="sae__error">{job.log[job.log.length - 1]}</pre>}
          {points.length > 0 && (
            <div style={{ width: 580, maxWidth: '100%' }}>
            <CurvePanel title={`Live loss of ${name}`} caption="Training loss as the job reports it (log scale)." series={saeCurve(points, 'loss')} yLog yLabel="loss" empty="Waiting for the first step…" testId="sae-live-loss" fileName={`sae-live-loss-${name}`} />
            </div>
          )}
        </div>
      )}
    </section>
  );
}
