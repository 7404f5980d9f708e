import { useMemo, type ReactNode } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { decadeTicks, formatTick, linearTicks, logDomain } from './axes';
import { curvesCsv, legendItems, mergeSeries, seriesValues, type CurveSeries } from './curves';
import type { LegendEntry } from './exportFigure';
import { Panel } from './Panel';
import { ScreenLegend, type ScreenLegendEntry } from './ScreenLegend';
import { seriesColour, useFigureTheme, type FigureTheme } from './theme';

export const CHART_WIDTH = 520;
export const CHART_HEIGHT = 300;

/**
 * The legend drawn into exported figures (recharts' own legend is HTML, outside the SVG): colour
 * entries per metric, then the compared runs' line styles in the foreground / muted colour.
 */
export function curveLegend(series: readonly CurveSeries[], theme: FigureTheme): LegendEntry[] {
  return legendItems(series).map((it) => ({ label: it.label, colour: it.colourIndex === null ? (it.dashed ? theme.muted : theme.foreground) : seriesColour(theme, it.colourIndex) }));
}

/** The same key on screen: line swatches, the compared runs' line styles drawn solid / dashed in the foreground colour. */
export function curveScreenLegend(series: readonly CurveSeries[], theme: FigureTheme): ScreenLegendEntry[] {
  return legendItems(series).map((it) => ({ label: it.label, colour: it.colourIndex === null ? theme.foreground : seriesColour(theme, it.colourIndex), dashed: it.dashed }));
}

const ACC_TICKS = [0, 0.25, 0.5, 0.75, 1];

/**
 * Lines over training steps, fixed size (exports match the screen). `yLog` puts the y axis on
 * whole decades around the data; otherwise it spans [0, 1] (accuracies).
 */
export function StepChart({ series, yLog = false, yLabel, xMax, width = CHART_WIDTH, height = CHART_HEIGHT }: { series: readonly CurveSeries[]; yLog?: boolean; yLabel: string; xMax?: number; width?: number; height?: number }) {
  const theme = useFigureTheme();
  const rows = useMemo(() => mergeSeries(series), [series]);
  const domain: [number, number] = yLog ? logDomain(seriesValues(series)) : [0, 1];
  const tick = { fontSize: theme.fontSize, fill: theme.muted, fontFamily: theme.fontFamily };
  const axisLabel = { fill: theme.muted, fontSize: theme.fontSize, fontFamily: theme.fontFamily };
  return (
    <LineChart width={width} height={height} data={rows} margin={{ top: 8, right: 20, bottom: 22, left: 10 }}>
      <CartesianGrid stroke={theme.grid} />
      <XAxis
        dataKey="step"
        type="number"
        domain={[0, xMax && xMax > 0 ? xMax : 'auto']}
        ticks={xMax && xMax > 0 ? linearTicks([0, xMax], { count: 5, fit: 'atMost' }) : undefined}
        allowDecimals={false}
        tick={tick}
        stroke={theme.muted}
        label={{ value: 'step', position: 'insideBottom', offset: -14, ...axisLabel }}
      />
      <YAxis
        type="number"
        scale={yLog ? 'log' : 'linear'}
        domain={domain}
        ticks={yLog ? decadeTicks(domain, { maxTicks: 8 }) : ACC_TICKS}
        allowDataOverflow
        tickFormatter={formatTick}
        tick={tick}
        stroke={theme.muted}
        width={58}
        label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 0, style: { textAnchor: 'middle' }, ...axisLabel }}
      />
      <Tooltip formatter={(v) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v)} labelFormatter={(s) => `step ${String(s)}`} />
      {series.map((s) => (
        <Line
          key={s.key}
          type="linear"
          dataKey={s.key}
          name={s.label}
          stroke={seriesColour(theme, s.colourIndex)}
          strokeWidth={theme.strokeWidth}
          strokeDasharray={s.dashed ? '6 4' : undefined}
          dot={false}
          connectNulls
          isAnimationActive={false}
        />
      ))}
    </LineChart>
  );
}

/** The on-screen key under a StepChart: smaller type, indented to line up with the plot area. */
const CURVE_LEGEND_STYLE = { margin: '0.25rem 0 0', padding: '0 0 0 3.5rem', gap: '0.15rem 1rem', fontSize: '0.8rem', maxWidth: CHART_WIDTH };

/** A step chart in its Panel, with CSV of exactly the plotted series and the legend for exports. */
export function CurvePanel({ title, caption, series, yLog, yLabel, xMax, empty, testId, fileName }: { title: string; caption?: ReactNode; series: readonly CurveSeries[]; yLog?: boolean; yLabel: string; xMax?: number; empty: ReactNode; testId?: string; fileName?: string }) {
  const theme = useFigureTheme();
  const hasData = series.some((s) => s.points.length > 0);
  return (
    <div data-testid={testId} className="curve-panel">
      <Panel title={title} caption={caption} fileName={fileName} csv={() => curvesCsv(series)} legend={curveLegend(series, theme)}>
        {hasData ? (
          <>
            <StepChart series={series} yLog={yLog} yLabel={yLabel} xMax={xMax} />
            <ScreenLegend entries={curveScreenLegend(series, theme)} swatch="line" style={CURVE_LEGEND_STYLE} />
          </>
        ) : (
          <p className="view__empty curve-panel__empty" style={{ width: CHART_WIDTH }}>
            {empty}
          </p>
        )}
      </Panel>
    </div>
  );
}
