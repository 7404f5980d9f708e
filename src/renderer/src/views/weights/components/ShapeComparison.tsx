import { useRef } from 'react';
import type { OvSpectrumAnalysis } from '../../../../../shared/api';
import { decadeTicks, linearDomain, linearTicks } from '../../../figure/axes';
import { fmt } from '../../../figure/heatmapFigure';
import { humanLabel } from '../../../figure/labels';
import { Panel } from '../../../figure/Panel';
import { ScreenLegend } from '../../../figure/ScreenLegend';
import { seriesColour, useFigureTheme } from '../../../figure/theme';
import { ErrorWithRetry } from '../../../shell/ErrorWithRetry';
import type { AsyncState } from '../../../shell/useAsync';
import {
  drawnPoints,
  entropyRankOf,
  headLabel,
  log2Ticks,
  nearestStepIndex,
  overTrainingRows,
  RANK_THRESHOLD,
  ranksCsv,
  shapeCsv,
  shapeRows,
  summarise,
  unionSteps,
  type SpectrumSeries,
} from '../weightsData';
import { chartSvg, DOTS_UP_TO, SHAPE_LABEL } from './OvColumn';
import { SeriesLineChart, type Series } from './SeriesLineChart';

export interface ShapeComparisonProps {
  /** The compared runs, in legend order. */
  ids: readonly string[];
  of: (id: string) => AsyncState<OvSpectrumAnalysis>;
  onRetry: (id: string) => void;
  /** The shared step (each run shows its nearest checkpoint). */
  step: number | undefined;
  /** Log y domain of σ_k / σ₁ over every compared run and checkpoint. */
  yDomain: [number, number];
  xMax: number;
  width: number;
}

/** The shape chart is taller than the others: its log y-axis spans every decade of the compared spectra. */
const SHAPE_HEIGHT = 340;

/** Class names from a run id (`lora-vs-steering/lora` → `…--lora-vs-steering_lora`): of its line and of its markers. */
export function runClass(id: string, what: 'line' | 'dot' = 'line'): string {
  return `weights-shape-${what}--${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** The OV form, short: `factorized, r ≤ 8`, `combined`. */
function shortKind(spec: OvSpectrumAnalysis): string {
  return spec.ov === 'factorized' ? `factorized, r ≤ ${spec.ovRank ?? '?'}` : spec.ov;
}

interface Row {
  key: string;
  run: string;
  head: string;
  kind: string;
  colour: number;
  step: number;
  sv: readonly number[];
  svOverTraining: readonly (readonly number[])[];
  steps: readonly number[];
}

/**
 * Several runs' OV spectra on one pair of axes, by shape: σ_k / σ₁ at the shared step (log–log), the
 * effective rank over training, and a table of the scale-free summaries beside the raw norms.
 */
export function ShapeComparison({ ids, of, onRetry, step, yDomain, xMax, width }: ShapeComparisonProps) {
  const theme = useFigureTheme();
  const shapeBox = useRef<HTMLDivElement>(null);
  const rankBox = useRef<HTMLDivElement>(null);
  const states = ids.map((id) => ({ id, state: of(id) }));
  const loaded = states.flatMap(({ id, state }) => (state.data && state.data.id === id ? [{ id, spec: state.data }] : []));
  // Cheap (a few runs × checkpoints × 128 values): recomputed each render, no memo to keep in step.
  const rows: Row[] = [];
  for (const { id, spec } of loaded) {
    const j = step === undefined ? spec.steps.length - 1 : nearestStepIndex(spec.steps, step);
    for (const h of spec.heads)
      rows.push({
        key: `s${rows.length}`,
        run: id,
        head: spec.heads.length > 1 ? headLabel(h) : '',
        kind: shortKind(spec),
        colour: rows.length,
        step: spec.steps[j],
        sv: h.singular_values[j] ?? [],
        svOverTraining: h.singular_values,
        steps: spec.steps,
      });
  }

  const spectra: SpectrumSeries[] = rows.map((r) => ({ key: r.key, label: r.head ? `${r.run} ${r.head}` : r.run, sv: r.sv }));
  const shape = shapeRows(spectra);
  const series: Series[] = rows.map((r) => ({
    key: r.key,
    label: r.head ? `${r.run} ${r.head}` : r.run,
    colour: r.colour,
    dots: drawnPoints(shape, r.key) <= DOTS_UP_TO,
    className: `weights-shape-line ${runClass(r.run)}`,
    dotClassName: `weights-shape-dot ${runClass(r.run, 'dot')}`,
  }));
  const legend = rows.map((r) => ({ label: `${r.head ? `${r.run} ${r.head}` : r.run} (${r.kind})`, colour: seriesColour(theme, r.colour), swatch: 'line' as const }));
  const rankRows = overTrainingRows(rows.map((r) => ({ key: r.key, steps: r.steps, sv: r.svOverTraining })), entropyRankOf);
  const rankDomain = linearDomain(rankRows, 'step');
  const allSteps = unionSteps(...rows.map((r) => r.steps));
  const csvEntries = loaded.map(({ id, spec }) => ({ run: id, spec }));
  const pct = Math.round(RANK_THRESHOLD * 100);
  const stepText = rows.length && rows.every((r) => r.step === rows[0].step) ? `step ${rows[0].step}` : `step ${step ?? '–'} (each run’s nearest checkpoint)`;

  return (
    <section className="weights__compare" data-testid="weights-compare-section" style={{ display: 'flex', flexDirection: 'column', gap: '0.75rem' }}>
      {states.map(({ id, state }) =>
        state.status === 'error' ? (
          <ErrorWithRetry key={id} onRetry={() => onRetry(id)}>
            Could not load the OV spectrum of {id}: {state.error}
          </ErrorWithRetry>
        ) : null,
      )}
      {loaded.length < states.filter((s) => s.state.status !== 'error').length && (
        <p className="view__loading">
          Computing the OV spectra of {states.filter(({ id, state }) => state.status === 'loading' && !loaded.some((l) => l.id === id)).map((s) => s.id).join(', ')}…
        </p>
      )}
      {ids.length === 0 && <p className="view__empty">Tick runs to compare above.</p>}
      {rows.length > 0 && (
        <>
          <div style={{ display: 'flex', flexWrap: 'wrap', gap: '1rem', alignItems: 'flex-start' }}>
            <div style={{ flex: `1 1 ${width + 40}px`, minWidth: 0 }}>
              <Panel
                title={`Spectral shape: ${SHAPE_LABEL}`}
                fileName={`ov-spectral-shape-step-${step ?? 'last'}`}
                caption={
                  <>
                    Each run’s W_O W_V at {stepText}, every singular value divided by the run’s largest, on log–log axes: all spectra start at 1 and differ only in how they fall off. Drawn first-listed on top; markers where a spectrum has ≤ {DOTS_UP_TO} non-zero values (a factorized W_O W_V of rank r has r, by construction); dotted: {pct}% of σ₁. CSV: raw σ<sub>k</sub>, σ<sub>k</sub>/σ<sub>1</sub> and σ<sub>k</sub>/Σσ of every checkpoint.
                  </>
                }
                legend={legend}
                svg={() => chartSvg(shapeBox.current, theme, `OV spectral shape ${SHAPE_LABEL} — ${stepText}`, legend)}
                csv={() => shapeCsv(csvEntries)}
                testId="weights-shape-panel"
              >
                <div ref={shapeBox}>
                  <SeriesLineChart
                    rows={shape}
                    xKey="index"
                    series={[...series].reverse()}
                    xLabel="index k (log)"
                    yLabel={SHAPE_LABEL}
                    xScale="log"
                    xDomain={[1, xMax]}
                    xTicks={log2Ticks(xMax)}
                    yScale="log"
                    yDomain={yDomain}
                    yTicks={decadeTicks(yDomain)}
                    markY={RANK_THRESHOLD}
                    markYLabel={`${pct}% of σ₁`}
                    width={width}
                    height={SHAPE_HEIGHT}
                  />
                </div>
                <ScreenLegend entries={legend} swatch="line" />
              </Panel>
            </div>
            <div style={{ flex: `1 1 ${width + 40}px`, minWidth: 0 }}>
              <Panel
                title="Effective rank over training"
                fileName="ov-effective-rank"
                caption={
                  <>
                    exp(H(p)) with p<sub>k</sub> = σ<sub>k</sub>/Σσ (Roy &amp; Vetterli 2007), per run at each checkpoint: r equal singular values score r, one dominant value scores near 1. Scale-free. CSV: with the {pct}%-of-σ₁ count, ‖W‖<sub>*</sub>/‖W‖<sub>F</sub> and the raw norms.
                  </>
                }
                legend={legend}
                svg={() => chartSvg(rankBox.current, theme, 'OV effective rank over training', legend)}
                csv={() => ranksCsv(csvEntries)}
                testId="weights-erank-panel"
              >
                <div ref={rankBox}>
                  <SeriesLineChart
                    rows={rankRows}
                    xKey="step"
                    series={series.map((s) => ({ ...s, dots: true, className: undefined, dotClassName: undefined }))}
                    xLabel="step"
                    yLabel={humanLabel('effective_rank')}
                    yScale="linear"
                    yDomain={rankDomain}
                    yTicks={rankDomain ? linearTicks(rankDomain) : undefined}
                    xTicks={allSteps.length <= 9 ? allSteps : undefined}
                    markX={step}
                    connectNulls
                    width={width}
                  />
                </div>
                <ScreenLegend entries={legend} swatch="line" />
              </Panel>
            </div>
          </div>
          <table className="data" data-testid="weights-rank-table" style={{ fontVariantNumeric: 'tabular-nums' }}>
            <thead>
              <tr>
                <th>run</th>
                <th>OV</th>
                <th>step</th>
                <th title="exp of the entropy of σ/Σσ (Roy & Vetterli 2007)">effective rank</th>
                <th title={`singular values above ${pct}% of σ₁`}>σ &gt; {pct}% σ₁</th>
                <th title="how many singular values hold 90% of Σσ">90% of Σσ</th>
                <th title="‖W‖* / ‖W‖F: 1 for rank one, √r for r equal values">‖W‖*/‖W‖F</th>
                <th title="Raw: the scale depends on the parametrisation (W_Q absorbs it), so these do not compare across runs">σ₁, ‖W‖* (raw)</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const s = summarise(r.sv);
                return (
                  <tr key={r.key} data-testid="weights-rank-row" data-run={r.run} data-head={r.head}>
                    <td>
                      <span aria-hidden style={{ display: 'inline-block', width: 10, height: 10, borderRadius: 2, marginRight: 6, background: seriesColour(theme, r.colour) }} />
                      {r.head ? `${r.run} ${r.head}` : r.run}
                    </td>
                    <td>{r.kind}</td>
                    <td className="num">{r.step}</td>
                    <td className="num">
                      <strong data-testid="weights-erank">{s.entropyRank.toFixed(1)}</strong>
                    </td>
                    <td className="num" data-testid="weights-rank1pct">
                      {s.rank1pct} / {s.size}
                    </td>
                    <td className="num">{s.rank90}</td>
                    <td className="num">{s.nuclearOverFrobenius.toFixed(2)}</td>
                    <td className="num" style={{ color: 'var(--muted)' }}>
                      {fmt(s.sigma1)}, {fmt(s.nuclear)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
