import { useMemo, useState } from 'react';
import type { SweepCellInfo } from '../../../../shared/sweeps';
import type { LegendEntry } from '../../figure/exportFigure';
import { humanLabel } from '../../figure/labels';
import { Panel } from '../../figure/Panel';
import { seriesColour, useFigureTheme } from '../../figure/theme';
import { ErrorWithRetry } from '../../shell/ErrorWithRetry';
import { useReportError } from '../../shell/errors';
import { useNavigate } from '../../shell/navigation';
import { useWorkspace } from '../../shell/workspace';
import { SweepCellsTable } from './components/SweepCellsTable';
import { SweepChart } from './components/SweepChart';
import { StartSweepForm } from './components/StartSweepForm';
import { chooseAxes, progressSummary, sweepFigure, sweepFigureCsv, sweptLabel, xDomain, xTicks } from './sweepsData';
import { useSweepsData } from './useSweepsData';
import './sweeps.css';

/**
 * Sweeps: start a sweep (a shipped one or a spec), follow every cell (status, steps, worker, final
 * metrics), cancel it, and the live result figure: the metric against the first swept numeric value
 * (log x where it spans ≥ 8×), mean ± sd over seeds with each seed a dot, chance dashed, one series per
 * value of a second swept variable. A dot or a table row opens the cell's run in Runs.
 */
export function SweepsView() {
  const { list, presets, selected, setSelected, detail, shown, cells, reload, cancel } = useSweepsData();
  const navigate = useNavigate();
  const { setRunId, runs } = useWorkspace();
  const report = useReportError();
  const theme = useFigureTheme();
  const [metricPick, setMetricPick] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);

  const metrics = shown?.spec.metrics ?? [];
  const metric = metricPick && metrics.includes(metricPick) ? metricPick : (metrics[0] ?? '');
  const axes = useMemo(() => chooseAxes(cells), [cells]);
  const fig = useMemo(() => sweepFigure([...cells], metric, axes), [cells, metric, axes]);
  const chance = shown?.chance[metric];
  const isAcc = /_acc$/.test(metric);
  const xLabel = axes.xKey ? sweptLabel(axes.xKey) : '';
  const yLabel = isAcc ? `${humanLabel(metric)} (accuracy)` : humanLabel(metric);
  const legend: LegendEntry[] = [
    ...fig.series.map((s, i) => ({ label: fig.series.length > 1 ? `${sweptLabel(axes.seriesKey ?? '')} ${String(s.value)}` : 'mean ± sd', colour: seriesColour(theme, i), swatch: 'line' as const })),
    { label: axes.xKey === 'seed' ? 'each cell (dot)' : 'each seed (dot)', colour: theme.muted, swatch: 'box' as const },
    ...(chance !== undefined ? [{ label: 'chance', colour: theme.muted, swatch: 'dashed' as const }] : []),
  ];

  const open = (runId: string) => {
    setRunId(runId);
    runs.reload();
    navigate('runs');
  };
  const openCell = (c: SweepCellInfo) => {
    if (c.status === 'pending' && c.step === 0) return;
    open(c.runId);
  };

  const running = shown && shown.state !== 'idle';
  const seedsNote = axes.keys.includes('seed') && axes.xKey !== 'seed' ? 'over seeds' : 'over the cells';
  const others = axes.keys.filter((k) => k !== 'seed' && k !== axes.xKey && k !== axes.seriesKey);

  return (
    <div className="sweeps" data-testid="view-sweeps">
      <div className="view__toolbar">
        <h2 className="sweeps__heading">Sweeps</h2>
        {list.data && list.data.length > 0 && (
          <label className="picker">
            Sweep{' '}
            <select value={selected ?? ''} onChange={(e) => setSelected(e.target.value)} data-testid="sweep-select">
              {list.data.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name} — {s.completed}/{s.total} completed{s.state !== 'idle' ? ` (${s.state})` : ''}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" onClick={reload} disabled={list.status === 'loading'} data-testid="sweeps-refresh">
          Refresh
        </button>
        {running && (
          <button
            type="button"
            disabled={cancelling}
            data-testid="sweep-cancel"
            onClick={() => {
              setCancelling(true);
              cancel(shown.name)
                .then(reload, (err: unknown) => report(err, `Cancel sweep ${shown.name}`))
                .finally(() => setCancelling(false));
            }}
          >
            Cancel sweep
          </button>
        )}
      </div>

      <section aria-label="Start a sweep">
        {presets.status === 'error' && <ErrorWithRetry onRetry={presets.reload}>Could not load the shipped sweeps: {presets.error}</ErrorWithRetry>}
        {presets.data && (
          <StartSweepForm
            presets={presets.data}
            onStarted={(name) => {
              setSelected(name);
              reload();
            }}
          />
        )}
      </section>

      {list.status === 'error' && <ErrorWithRetry onRetry={reload}>Could not list the workspace’s sweeps: {list.error}</ErrorWithRetry>}
      {list.data && list.data.length === 0 && <p className="view__empty">No sweeps in this workspace yet (they live in sweeps/&lt;name&gt;/). Start one above, or with `oocr sweep --out WORKSPACE/sweeps/NAME`.</p>}
      {detail.status === 'error' && (
        <ErrorWithRetry onRetry={reload} testId="sweep-error">
          Could not read sweep {selected}: {detail.error}
        </ErrorWithRetry>
      )}

      {shown && (
        <>
          <p className="sweeps__summary" data-testid="sweep-summary">
            <strong>{shown.name}</strong> ({shown.spec.preset}
            {shown.spec.name !== shown.name ? `, spec ${shown.spec.name}` : ''}): {progressSummary(cells)}
            {shown.state !== 'idle' ? ` — ${shown.state}` : ''}
          </p>
          <Panel
            title="Sweep result"
            fileName={`sweep-${shown.name}-${metric}`}
            testId="sweep-figure"
            caption={
              axes.xKey
                ? `${humanLabel(metric)} (${metric}) against ${xLabel}${axes.xLog ? ' (log scale)' : ''}: mean ± 1 sd ${seedsNote} (error bars), each cell a dot (click one to open its run)${chance !== undefined ? `, chance dashed (${Number(chance.toPrecision(3))})` : ''}${axes.seriesKey ? `; one line per ${sweptLabel(axes.seriesKey)}` : ''}${others.length ? `; averaged over ${others.join(', ')}` : ''}. ${fig.plotted} of ${cells.length} cells finished.`
                : 'No swept numeric value to put on the x axis.'
            }
            csv={() => sweepFigureCsv(fig)}
            legend={legend}
            controls={
              <label className="picker">
                Metric{' '}
                <select value={metric} onChange={(e) => setMetricPick(e.target.value)} data-testid="sweep-metric">
                  {metrics.map((m) => (
                    <option key={m} value={m}>
                      {humanLabel(m)} ({m})
                    </option>
                  ))}
                </select>
              </label>
            }
          >
            <SweepChart
              fig={fig}
              xLabel={xLabel}
              yLabel={yLabel}
              xDomain={xDomain(fig)}
              xTicks={xTicks([...cells], axes.xKey)}
              yDomain={isAcc ? [-0.03, 1.05] : undefined}
              yTicks={isAcc ? [0, 0.25, 0.5, 0.75, 1] : undefined}
              chance={chance}
              onOpen={(p) => open(p.runId)}
            />
            <SweepLegend entries={legend} />
          </Panel>
          <SweepCellsTable cells={cells} keys={axes.keys} metrics={metrics} onOpen={openCell} />
        </>
      )}
    </div>
  );
}

/** The legend on screen, under the chart: a line per series, a dot for the cells, a dashed line for chance (exports draw `Panel.legend`). */
function SweepLegend({ entries }: { entries: readonly LegendEntry[] }) {
  return (
    <ul aria-label="Legend" className="sweeps__legend">
      {entries.map((e) => (
        <li key={e.label}>
          <svg width="22" height="10" aria-hidden="true">
            {e.swatch === 'box' ? <circle cx="11" cy="5" r="4" fill={e.colour} fillOpacity={0.45} stroke={e.colour} /> : <line x1="1" y1="5" x2="21" y2="5" stroke={e.colour} strokeWidth={2} strokeDasharray={e.swatch === 'dashed' ? '5 3' : undefined} />}
          </svg>
          {e.label}
        </li>
      ))}
    </ul>
  );
}
