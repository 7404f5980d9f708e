import { useMemo, useRef } from 'react';
import type { OvSpectrumAnalysis } from '../../../../../shared/api';
import { axisTicks, decadeTicks, linearTicks } from '../../../figure/axes';
import { svgElementToStandalone, type LegendEntry } from '../../../figure/exportFigure';
import { fmt } from '../../../figure/heatmapFigure';
import { Panel } from '../../../figure/Panel';
import { ScreenLegend } from '../../../figure/ScreenLegend';
import { seriesColour, useFigureTheme } from '../../../figure/theme';
import { RunPicker, hasCheckpoints } from '../../../shell/RunPicker';
import type { AsyncState } from '../../../shell/useAsync';
import { EFFECTIVE_RANK_SHARE, headKey, headLabel, headStats, nuclearCsv, nuclearRows, spectrumCsv, spectrumRows, type ChartRow } from '../weightsData';
import { SeriesLineChart } from './SeriesLineChart';
import { ErrorWithRetry } from '../../../shell/ErrorWithRetry';

export interface OvColumnProps {
  side: 'left' | 'right';
  runId: string | null;
  onRun: (id: string) => void;
  spectrum: AsyncState<OvSpectrumAnalysis>;
  onRetry: () => void;
  /** The shared step (the column shows its nearest checkpoint). */
  stepIndex: number;
  top?: number;
  svDomain: [number, number] | null;
  nuclearDomain: [number, number] | null;
  width: number;
}

/** Exports a recharts chart inside `box` with a title naming the run (so two columns' files differ). */
function chartSvg(box: HTMLDivElement | null, theme: ReturnType<typeof useFigureTheme>, title: string, legend: LegendEntry[]): string {
  const el = box?.querySelector('svg.recharts-surface');
  if (!el) throw new Error(`${title}: nothing to export yet`);
  return svgElementToStandalone(el as SVGSVGElement, theme, { title, legend });
}

/** One run's OV circuit: singular values at the chosen step, nuclear norm over training, ranks. */
export function OvColumn({ side, runId, onRun, spectrum, onRetry, stepIndex, top, svDomain, nuclearDomain, width }: OvColumnProps) {
  const theme = useFigureTheme();
  const svBox = useRef<HTMLDivElement>(null);
  const nnBox = useRef<HTMLDivElement>(null);
  const spec = spectrum.data && spectrum.data.id === runId ? spectrum.data : undefined;
  const step = spec?.steps[stepIndex];
  const series = useMemo(() => (spec ? spec.heads.map((h, i) => ({ key: headKey(i), label: headLabel(h) })) : []), [spec]);
  const legend = series.map((s, i) => ({ label: s.label, colour: seriesColour(theme, i) }));
  const svRows: ChartRow[] = useMemo(() => (spec ? spectrumRows(spec, stepIndex, top) : []), [spec, stepIndex, top]);
  const nnRows: ChartRow[] = useMemo(() => (spec ? nuclearRows(spec) : []), [spec]);
  const stats = useMemo(() => (spec ? headStats(spec, stepIndex) : []), [spec, stepIndex]);
  const kind = spec ? (spec.ov === 'factorized' ? `factorized W_O W_V (rank ≤ ${spec.ovRank ?? '?'})` : spec.ov === 'combined' ? 'combined W_OV' : spec.ov) : null;
  const pct = Math.round(EFFECTIVE_RANK_SHARE * 100);
  const many = spec ? spec.heads.length > 4 : false;
  // Dots where a series has few drawable points (a low-rank spectrum would be a short stub otherwise).
  const svDots = !many && svRows.length > 0 && Object.keys(svRows[0]).some((k) => k !== 'index' && svRows.filter((r) => r[k] !== null).length <= 32);
  const svTicks = useMemo(() => axisTicks(1, Math.max(1, svRows.length)), [svRows.length]);
  const nnTicks = useMemo(() => (spec && spec.steps.length ? axisTicks(spec.steps[0], spec.steps[spec.steps.length - 1], spec.steps) : undefined), [spec]);

  return (
    <div className="weights__column" data-testid="weights-column" data-side={side} data-run={runId ?? ''} style={{ display: 'flex', flexDirection: 'column', gap: '0.75rem', flex: `1 1 ${width + 40}px`, minWidth: 0 }}>
      <div className="view__toolbar" style={{ marginBottom: 0 }}>
        <RunPicker label={side === 'left' ? 'Left run' : 'Right run'} value={runId} onChange={onRun} accept={hasCheckpoints} testId={`weights-run-${side}`} />
        {kind && (
          <span data-testid="weights-ov-kind" style={{ color: 'var(--muted)' }}>
            {kind}
          </span>
        )}
      </div>
      {spectrum.status === 'error' && (
        <ErrorWithRetry onRetry={onRetry}>
          Could not load the OV spectrum of {runId}: {spectrum.error}
        </ErrorWithRetry>
      )}
      {!spec && spectrum.status === 'loading' && <p className="view__loading">Computing the OV spectrum of {runId}…</p>}
      {!spec && spectrum.status === 'idle' && <p className="view__loading">Choosing runs (reading each run’s OV parameterisation)…</p>}
      {spec && step !== undefined && (
        <>
          <p className="weights__stats" data-testid="weights-stats" style={{ margin: 0, fontSize: '0.9rem', minHeight: '2.6em' }}>
            Step {step}
            {spec.steps.length > 1 ? ` (checkpoint ${stepIndex + 1}/${spec.steps.length})` : ''} · effective rank ({pct}% of ‖W_OV‖<sub>*</sub>):{' '}
            {stats.map((s, i) => (
              <span key={s.label} title={`${s.label}: ${s.effectiveRank} of ${s.size} singular values hold ${pct}% of the nuclear norm ${fmt(s.nuclear)}; ${s.numericalRank} are numerically non-zero; σ₁ = ${fmt(s.top)}`}>
                {i > 0 ? ', ' : ''}
                {spec.heads.length > 1 ? `${s.label} ` : ''}
                <strong data-testid="weights-effective-rank">{s.effectiveRank}</strong>
                {spec.heads.length === 1 ? ` / ${s.size} · numerical rank ${s.numericalRank} · ‖W_OV‖* ${fmt(s.nuclear)}` : ''}
              </span>
            ))}
          </p>
          <Panel
            title="Singular values of W_OV"
            fileName={`ov-singular-values-${runId}-step-${step}`}
            caption={
              <>
                σ<sub>k</sub> of each head’s W_O W_V at step {step}, descending, log scale{top ? `, first ${top}` : ''}. Few large values = low-rank OV circuit (factorized training’s nuclear-norm bias); a long flat tail = high rank (combined W_OV’s Frobenius bias). Values below 10⁻¹⁰·σ₁ are numerical zeros and not drawn.
              </>
            }
            legend={legend}
            svg={() => chartSvg(svBox.current, theme, `Singular values of W_OV — ${runId}, step ${step}`, legend)}
            csv={() => spectrumCsv(spec.id, spec, stepIndex)}
            testId="weights-sv-panel"
          >
            <div ref={svBox}>
              <SeriesLineChart rows={svRows} xKey="index" series={series} xLabel="index k" yLabel="σₖ" yScale="log" yDomain={svDomain} yTicks={svDomain ? decadeTicks(svDomain, { minor: true }) : undefined} width={width} xTicks={svTicks} dots={svDots} />
            </div>
            <ScreenLegend entries={legend} />
          </Panel>
          <Panel
            title="Nuclear norm over training"
            fileName={`ov-nuclear-norm-${runId}`}
            caption={<>‖W_O W_V‖<sub>*</sub> = Σ<sub>k</sub> σ<sub>k</sub> per head at each checkpoint; the dashed line marks step {step}.</>}
            legend={legend}
            svg={() => chartSvg(nnBox.current, theme, `Nuclear norm of W_OV over training — ${runId}`, legend)}
            csv={() => nuclearCsv(spec.id, spec)}
            testId="weights-nuclear-panel"
          >
            <div ref={nnBox}>
              <SeriesLineChart rows={nnRows} xKey="step" series={series} xLabel="step" yLabel="‖W_OV‖*" yScale="linear" yDomain={nuclearDomain} yTicks={nuclearDomain ? linearTicks(nuclearDomain) : undefined} markX={step} xTicks={nnTicks} width={width} height={240} dots={!many} />
            </div>
            <ScreenLegend entries={legend} />
          </Panel>
        </>
      )}
    </div>
  );
}
