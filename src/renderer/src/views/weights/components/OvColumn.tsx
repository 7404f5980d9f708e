import { useMemo, useRef } from 'react';
import type { OvSpectrumAnalysis } from '../../../../../shared/api';
import { axisTicks, decadeTicks, linearTicks } from '../../../figure/axes';
import { svgElementToStandalone, type LegendEntry } from '../../../figure/exportFigure';
import { fmt } from '../../../figure/heatmapFigure';
import { humanLabel } from '../../../figure/labels';
import { Panel } from '../../../figure/Panel';
import { ScreenLegend } from '../../../figure/ScreenLegend';
import { seriesColour, useFigureTheme } from '../../../figure/theme';
import { RunPicker, hasCheckpoints } from '../../../shell/RunPicker';
import type { AsyncState } from '../../../shell/useAsync';
import { nuclearOverFrobenius } from '../../../../../shared/analyses/ovSpectrum';
import { drawnPoints, headEntries, headKey, headLabel, headSeries, headStats, log2Ticks, overTrainingRows, ovKindText, RANK_THRESHOLD, ranksCsv, shapeCsv, shapeRows, type ChartRow } from '../weightsData';
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
  /** Shared with the other column: the log y domain of σ_k / σ₁, the index axis' end, the ratio's domain. */
  shapeDomain: [number, number];
  xMax: number;
  ratioDomain: [number, number] | null;
  width: number;
}

/**
 * Axis and figure titles, from the shared labels and set with the figure font's scripts (σₖ is drawn
 * as σ with a lowered k, never as `σ_k`).
 */
export const SHAPE_LABEL = 'σₖ / σ₁';
export const NUCLEAR_OVER_FROBENIUS_LABEL = `${humanLabel('nuclear').replace(/ norm$/, '')} / ${humanLabel('frobenius')}`;

/** Series with at most this many drawable points get markers (a rank-8 spectrum is 8 dots, not a stub). */
export const DOTS_UP_TO = 32;

/** Exports a recharts chart inside `box` with a title naming the run (so two columns' files differ). */
export function chartSvg(box: HTMLDivElement | null, theme: ReturnType<typeof useFigureTheme>, title: string, legend: LegendEntry[]): string {
  const el = box?.querySelector('svg.recharts-surface');
  if (!el) throw new Error(`${title}: nothing to export yet`);
  return svgElementToStandalone(el as SVGSVGElement, theme, { title, legend });
}

/** One run's OV circuit, head by head: its normalised spectrum at the chosen step, ‖·‖_* ÷ ‖·‖_F over training, ranks. */
export function OvColumn({ side, runId, onRun, spectrum, onRetry, stepIndex, shapeDomain, xMax, ratioDomain, width }: OvColumnProps) {
  const theme = useFigureTheme();
  const svBox = useRef<HTMLDivElement>(null);
  const nnBox = useRef<HTMLDivElement>(null);
  const spec = spectrum.data && spectrum.data.id === runId ? spectrum.data : undefined;
  const step = spec?.steps[stepIndex];
  const many = spec ? spec.heads.length > 4 : false;
  const svRows: ChartRow[] = useMemo(() => (spec ? shapeRows(headSeries(spec, stepIndex)) : []), [spec, stepIndex]);
  const series = useMemo(
    () => (spec ? spec.heads.map((h, i) => ({ key: headKey(i), label: headLabel(h), dots: !many && drawnPoints(svRows, headKey(i)) <= DOTS_UP_TO })) : []),
    [spec, svRows, many],
  );
  const legend = series.map((s, i) => ({ label: s.label, colour: seriesColour(theme, i), swatch: 'line' as const }));
  const nnRows: ChartRow[] = useMemo(() => (spec ? overTrainingRows(headEntries(spec), nuclearOverFrobenius) : []), [spec]);
  const stats = useMemo(() => (spec ? headStats(spec, stepIndex) : []), [spec, stepIndex]);
  const kind = spec ? ovKindText(spec) : null;
  const pct = Math.round(RANK_THRESHOLD * 100);
  const svTicks = useMemo(() => log2Ticks(xMax), [xMax]);
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
            {spec.steps.length > 1 ? ` (checkpoint ${stepIndex + 1}/${spec.steps.length})` : ''} · effective rank:{' '}
            {stats.map((s, i) => (
              <span
                key={s.label}
                title={`${s.label}: effective rank exp(H(σ/Σσ)) = ${s.entropyRank.toFixed(2)}; ${s.rank1pct} of ${s.size} singular values above ${pct}% of σ₁; ${s.rank90} hold 90% of Σσ; ${s.numericalRank} numerically non-zero. Raw (scale depends on the parametrisation): σ₁ = ${fmt(s.sigma1)}, ‖W‖* = ${fmt(s.nuclear)}, ‖W‖F = ${fmt(s.frobenius)}`}
              >
                {i > 0 ? ', ' : ''}
                {spec.heads.length > 1 ? `${s.label} ` : ''}
                <strong data-testid="weights-effective-rank">{s.entropyRank.toFixed(1)}</strong>
                {spec.heads.length === 1 ? ` · ${s.rank1pct} of ${s.size} σ above ${pct}% of σ₁ · ‖W‖*/‖W‖F ${s.nuclearOverFrobenius.toFixed(2)}` : ''}
              </span>
            ))}
          </p>
          <Panel
            title="Singular values of W_OV, normalised"
            fileName={`ov-spectrum-${runId}-step-${step}`}
            caption={
              <>
                σ<sub>k</sub>/σ<sub>1</sub> of each head’s W_O W_V at step {step}, log–log, so the shape reads the same whatever the parametrisation’s scale. Values below 10⁻¹⁰·σ₁ are numerical zeros and not drawn (a rank-r factorization ends at k = r). CSV: raw σ<sub>k</sub> too.
              </>
            }
            legend={legend}
            svg={() => chartSvg(svBox.current, theme, `OV normalised singular values ${SHAPE_LABEL} — ${runId}, step ${step}`, legend)}
            csv={() => shapeCsv([{ run: spec.id, spec, stepIndex }])}
            testId="weights-sv-panel"
          >
            <div ref={svBox}>
              <SeriesLineChart
                rows={svRows}
                xKey="index"
                series={series}
                xLabel="index k (log)"
                yLabel={SHAPE_LABEL}
                xScale="log"
                xDomain={[1, xMax]}
                xTicks={svTicks}
                yScale="log"
                yDomain={shapeDomain}
                yTicks={decadeTicks(shapeDomain)}
                markY={RANK_THRESHOLD}
                markYLabel={`${pct}% of σ₁`}
                width={width}
              />
            </div>
            <ScreenLegend entries={legend} swatch="line" />
          </Panel>
          <Panel
            title="Nuclear / Frobenius norm over training"
            fileName={`ov-nuclear-over-frobenius-${runId}`}
            caption={
              <>
                ‖W_O W_V‖<sub>*</sub> / ‖W_O W_V‖<sub>F</sub> per head at each checkpoint: scale-free, 1 for rank one, √r for r equal values. The raw nuclear norm (in the CSV) depends on the parametrisation’s scale and does not compare across runs. The dashed line marks step {step}.
              </>
            }
            legend={legend}
            svg={() => chartSvg(nnBox.current, theme, `OV ${NUCLEAR_OVER_FROBENIUS_LABEL} over training — ${runId}`, legend)}
            csv={() => ranksCsv([{ run: spec.id, spec }])}
            testId="weights-nuclear-panel"
          >
            <div ref={nnBox}>
              <SeriesLineChart rows={nnRows} xKey="step" series={series.map((s) => ({ ...s, dots: !many }))} xLabel="step" yLabel={NUCLEAR_OVER_FROBENIUS_LABEL} yScale="linear" yDomain={ratioDomain} yTicks={ratioDomain ? linearTicks(ratioDomain) : undefined} markX={step} xTicks={nnTicks} width={width} height={240} />
            </div>
            <ScreenLegend entries={legend} swatch="line" />
          </Panel>
        </>
      )}
    </div>
  );
}
