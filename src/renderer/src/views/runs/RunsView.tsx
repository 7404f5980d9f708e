import { useMemo, useState } from 'react';
import { lineStyleName } from '../../figure/curves';
import { useNavigate } from '../../shell/navigation';
import { CurvePanel } from '../../figure/StepChart';
import { ModelsTable } from './components/ModelsTable';
import { OpenModelForm } from './components/OpenModelForm';
import { RunCard } from './components/RunCard';
import { ResumeRun } from './components/ResumeRun';
import { RunsTable } from './components/RunsTable';
import { StudiesTable } from './components/StudiesTable';
import { runCurves, seedCurves } from './curves';
import { seedGroup } from './seedAggregate';
import { useRunsData } from './useRunsData';
import './runs.css';
import { ErrorWithRetry } from '../../shell/ErrorWithRetry';

/**
 * Runs: the workspace browser. The table lists every run (unreadable ones too, with their error);
 * the selected run's card and curves follow, with every run ticked for comparison overlaid in its own
 * line style — or, when they are seeds of one configuration, their mean ± sd (Group by seed); then
 * the LoRA-vs-steering studies.
 */
export function RunsView() {
  const navigate = useNavigate();
  const { runs, models, runId, setRunId, compareIds, setCompareIds, isModel, liveJobs, detail, compare, studies, sweeps } = useRunsData();
  const [groupBySeed, setGroupBySeed] = useState(false);

  const shown = detail.data && detail.data.id === runId ? detail.data : undefined;
  // The compared runs other than the one shown, in the order ticked; those read so far, and those that failed.
  const others = useMemo(() => compareIds.filter((id) => id !== runId), [compareIds, runId]);
  const compared = useMemo(() => others.flatMap((id) => compare.data?.find((c) => c.id === id)?.data ?? []), [others, compare.data]);
  const failed = (compare.data ?? []).filter((c) => c.error && others.includes(c.id));
  const allRead = shown !== undefined && compared.length === others.length && others.length > 0;
  const seeds = allRead ? seedGroup([shown.manifest, ...compared.map((c) => c.manifest)]) : null;
  const aggregate = groupBySeed && seeds !== null;
  const curves = useMemo(() => {
    if (!shown) return null;
    const lines = [shown, ...compared].map((d) => ({ id: d.id, lines: d.metrics }));
    return aggregate ? seedCurves(lines) : runCurves(lines[0], lines.slice(1));
  }, [shown, compared, aggregate]);
  const overlay = aggregate
    ? `; mean ± 1 sd over ${compared.length + 1} seeds at the steps all of them logged, each seed thin`
    : compared.length
      ? `; ${compared.map((c, i) => `${c.id} ${lineStyleName(i + 1)}`).join(', ')}`
      : '';
  const setCompared = (id: string, on: boolean) => setCompareIds(on ? [...compareIds.filter((c) => c !== id), id] : compareIds.filter((c) => c !== id));

  return (
    <div className="runs" data-testid="view-runs">
      <div className="view__toolbar">
        <h2 className="runs__heading">Runs</h2>
        <button type="button" onClick={runs.reload} disabled={runs.status === 'loading'} data-testid="runs-refresh">
          Refresh
        </button>
        {runs.status === 'loading' && <span className="view__loading">Loading…</span>}
        {others.length > 0 && (
          <span className="runs__comparing" data-testid="runs-comparing">
            Comparing with{' '}
            {others.map((id, i) => (
              <span key={id}>
                {i > 0 && ', '}
                <strong>{id}</strong> ({aggregate ? 'thin' : lineStyleName(i + 1)})
              </span>
            ))}{' '}
            <button type="button" onClick={() => setCompareIds([])}>
              Clear
            </button>
          </span>
        )}
        {others.length > 0 && (
          <label
            className="runs__seed-group"
            title={seeds ? `The runs differ only in their seed (${seeds.join(', ')})` : allRead ? 'Only for runs that differ in nothing but their seed (same preset and run.json config)' : 'Reading the compared runs…'}
          >
            <input type="checkbox" data-testid="runs-seed-group" checked={aggregate} disabled={!seeds} onChange={(e) => setGroupBySeed(e.target.checked)} /> Group by seed
            {seeds ? `: mean ± sd over ${seeds.length} seeds` : ''}
          </label>
        )}
      </div>

      {runs.status === 'error' && (
        <ErrorWithRetry onRetry={runs.reload}>
          Could not list the workspace’s runs: {runs.error}
        </ErrorWithRetry>
      )}
      {runs.data && runs.data.length === 0 && <p className="view__empty">No runs in this workspace yet. Start one from Train.</p>}
      {runs.data && runs.data.length > 0 && (
        <RunsTable
          runs={runs.data}
          sweeps={sweeps.data}
          runId={runId}
          compareIds={compareIds}
          liveJobs={liveJobs}
          onSelect={setRunId}
          onOpen={(id) => {
            setRunId(id);
            navigate('weights');
          }}
          onCompare={setCompared}
        />
      )}

      {runId && !isModel && (
        <section className="runs__detail" aria-label="Selected run">
          {detail.status === 'error' && (
            <ErrorWithRetry onRetry={detail.reload} testId="run-details-error">
              Could not read run {runId}: {detail.error}
            </ErrorWithRetry>
          )}
          {compare.status === 'error' && (
            <p className="view__error" role="alert">
              Could not read the compared runs: {compare.error}
            </p>
          )}
          {failed.map((c) => (
            <p key={c.id} className="view__error" role="alert" data-testid="run-compare-error">
              Could not read the compared run {c.id}: {c.error}
            </p>
          ))}
          {!shown && detail.status === 'loading' && <p className="view__loading">Loading {runId}…</p>}
          {shown && <ResumeRun details={shown} />}
          {shown && curves && (
            <div className="view__grid">
              <RunCard details={shown} />
              <CurvePanel
                title="Loss over steps"
                caption={`Training loss (log scale)${overlay}.`}
                fileName={`loss-${shown.id}${aggregate ? '-seeds' : ''}`}
                series={curves.loss}
                yLog
                yLabel="loss"
                empty="No metrics logged yet."
                testId="runs-loss-chart"
              />
              <CurvePanel
                title="Accuracy by split"
                caption={`Accuracy of each evaluation split at the logged steps${overlay}.`}
                fileName={`accuracy-${shown.id}${aggregate ? '-seeds' : ''}`}
                series={curves.acc}
                yLabel="accuracy"
                empty="No accuracy metrics logged."
                testId="runs-acc-chart"
              />
            </div>
          )}
        </section>
      )}

      <section className="runs__models" aria-label="Models" data-testid="runs-models">
        <div className="view__toolbar">
          <h2 className="runs__heading">Models</h2>
          <button type="button" onClick={models.reload} disabled={models.status === 'loading'} data-testid="models-refresh">
            Refresh
          </button>
          {models.status === 'loading' && <span className="view__loading">Loading…</span>}
        </div>
        <p className="runs__hint">
          Hugging Face model folders (config.json, safetensors weights, tokenizer.json) in the workspace or opened by path, with the PEFT adapters inside or beside them. Attention, Lens &amp; Patching,
          Projection and LoRA vs Steering run on them.
        </p>
        <OpenModelForm onOpened={() => models.reload()} />
        {models.status === 'error' && (
          <ErrorWithRetry onRetry={models.reload} testId="models-error">
            Could not list the workspace’s models: {models.error}
          </ErrorWithRetry>
        )}
        {models.data && models.data.length === 0 && <p className="view__empty">No models yet: put a downloaded model folder in the workspace, or open one by its path (File → Open Model… in the desktop app).</p>}
        {models.data && models.data.length > 0 && (
          <ModelsTable
            models={models.data}
            onOpen={(id, view) => {
              setRunId(id);
              navigate(view);
            }}
          />
        )}
      </section>

      <section className="runs__studies" aria-label="LoRA vs steering studies" data-testid="runs-studies">
        <div className="view__toolbar">
          <h2 className="runs__heading">LoRA vs steering studies</h2>
          <button type="button" onClick={() => navigate('lora-steering')} data-testid="studies-link">
            Open LoRA vs Steering
          </button>
        </div>
        {studies.status === 'error' && (
          <ErrorWithRetry onRetry={studies.reload} testId="studies-error">
            Could not list studies: {studies.error}
          </ErrorWithRetry>
        )}
        {studies.status === 'loading' && !studies.data && <p className="view__loading">Loading studies…</p>}
        {studies.data && <StudiesTable studies={studies.data} onOpen={() => navigate('lora-steering')} />}
      </section>
    </div>
  );
}
