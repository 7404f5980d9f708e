import { useMemo } from 'react';
import { useNavigate } from '../../shell/navigation';
import { CurvePanel } from '../../figure/StepChart';
import { ModelsTable } from './components/ModelsTable';
import { OpenModelForm } from './components/OpenModelForm';
import { RunCard } from './components/RunCard';
import { ResumeRun } from './components/ResumeRun';
import { RunsTable } from './components/RunsTable';
import { StudiesTable } from './components/StudiesTable';
import { runCurves } from './curves';
import { useRunsData } from './useRunsData';
import './runs.css';
import { ErrorWithRetry } from '../../shell/ErrorWithRetry';

/**
 * Runs: the workspace browser. The table lists every run (unreadable ones too, with their error);
 * the selected run's card and curves follow, with a second run overlaid dashed when one is ticked
 * for comparison; then the LoRA-vs-steering studies.
 */
export function RunsView() {
  const navigate = useNavigate();
  const { runs, models, runId, setRunId, compareId, setCompareId, isModel, liveJobs, detail, compare, studies } = useRunsData();

  const shown = detail.data && detail.data.id === runId ? detail.data : undefined;
  const compared = compare.data && compareId && compare.data.id === compareId && compareId !== runId ? compare.data : undefined;
  const curves = useMemo(
    () => (shown ? runCurves({ id: shown.id, lines: shown.metrics }, compared ? { id: compared.id, lines: compared.metrics } : null) : null),
    [shown, compared],
  );

  return (
    <div className="runs" data-testid="view-runs">
      <div className="view__toolbar">
        <h2 className="runs__heading">Runs</h2>
        <button type="button" onClick={runs.reload} disabled={runs.status === 'loading'} data-testid="runs-refresh">
          Refresh
        </button>
        {runs.status === 'loading' && <span className="view__loading">Loading…</span>}
        {compareId && (
          <span className="runs__comparing" data-testid="runs-comparing">
            Comparing with <strong>{compareId}</strong> (dashed){' '}
            <button type="button" onClick={() => setCompareId(null)}>
              Clear
            </button>
          </span>
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
          runId={runId}
          compareId={compareId}
          liveJobs={liveJobs}
          onSelect={setRunId}
          onOpen={(id) => {
            setRunId(id);
            navigate('weights');
          }}
          onCompare={setCompareId}
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
              Could not read the compared run {compareId}: {compare.error}
            </p>
          )}
          {!shown && detail.status === 'loading' && <p className="view__loading">Loading {runId}…</p>}
          {shown && <ResumeRun details={shown} />}
          {shown && curves && (
            <div className="view__grid">
              <RunCard details={shown} />
              <CurvePanel
                title="Loss over steps"
                caption={`Training loss (log scale)${compared ? `; ${compared.id} dashed` : ''}.`}
                fileName={`loss-${shown.id}`}
                series={curves.loss}
                yLog
                yLabel="loss"
                empty="No metrics logged yet."
                testId="runs-loss-chart"
              />
              <CurvePanel
                title="Accuracy by split"
                caption={`Accuracy of each evaluation split at the logged steps${compared ? `; ${compared.id} dashed` : ''}.`}
                fileName={`accuracy-${shown.id}`}
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
