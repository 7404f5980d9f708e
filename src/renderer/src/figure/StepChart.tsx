import { useMemo, type CSSProperties, type ReactNode } from 'react';
import { Area, CartesianGrid, ComposedChart, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { decadeTicks, formatTick, linearTicks, logDomain, logTickLabel, thinTicks } from './axes';
import { bandKeys, curvesCsv, dashArray, legendItems, lineStyleOf, mergeSeries, seriesValues, stepExtent, type CurveRow, type CurveSeries } from './curves';
import type { LegendEntry } from './exportFigure';
import { humanLabel } from './labels';
import { Panel } from './Panel';
import { ScreenLegend, type ScreenLegendEntry } from './ScreenLegend';
import { textWidth } from './text';
import { seriesColour, useFigureTheme, type FigureTheme } from './theme';

export const CHART_WIDTH = 520;
export const CHART_HEIGHT = 300;

/**
 * The legend drawn into exported figures (recharts' own legend is HTML, outside the SVG): colour
 * entries per metric under its human label, then the compared runs' line styles in the foreground /
 * muted colour.
 */
export function curveLegend(series: readonly CurveSeries[], theme: FigureTheme): LegendEntry[] {
  return legendItems(series).map((it) =>
    it.colourIndex === null
      ? it.band
        ? { label: it.label, colour: theme.muted, swatch: 'box' }
        : {
            label: it.label,
            colour: it.dashed || it.thin ? theme.muted : theme.foreground,
            swatch: it.dashed ? 'dashed' : 'line',
            // A compared run's own pattern (dotted, dash-dot, …), so the exported key matches its line.
            ...(it.lineStyle !== undefined && dashArray(it.lineStyle, theme.fontSize) ? { dasharray: dashArray(it.lineStyle, theme.fontSize) } : {}),
          }
      : { label: humanLabel(it.label), colour: seriesColour(theme, it.colourIndex), swatch: 'line' },
  );
}

/** A screen legend entry that can draw any line style, a thin translucent line or a band swatch. */
export interface StepLegendEntry extends ScreenLegendEntry {
  dasharray?: string;
  thin?: boolean;
  band?: boolean;
}

/** The screen key of charts with several line styles, per-seed lines or bands (its swatches draw each style). */
export function curveStepLegend(series: readonly CurveSeries[], theme: FigureTheme): StepLegendEntry[] {
  return legendItems(series).map((it) =>
    it.colourIndex === null
      ? { label: it.label, colour: theme.foreground, dashed: it.dashed, dasharray: dashArray(it.lineStyle ?? (it.dashed ? 1 : 0), 10), thin: it.thin, band: it.band }
      : { label: humanLabel(it.label), colour: seriesColour(theme, it.colourIndex), dashed: false },
  );
}

/** Whether a chart needs curveStepLegend's swatches (more than solid and dashed runs). */
export function needsStepLegend(series: readonly CurveSeries[]): boolean {
  return series.some((s) => s.lineStyle !== undefined || s.thin || (s.band?.length ?? 0) > 0);
}

function StepLegend({ entries, style }: { entries: readonly StepLegendEntry[]; style?: CSSProperties }) {
  if (entries.length < 1) return null;
  return (
    <ul aria-label="Legend" style={{ listStyle: 'none', display: 'flex', flexWrap: 'wrap', margin: 0, padding: 0, ...style }}>
      {entries.map((e, i) => (
        <li key={`${i}|${e.label}`} style={{ display: 'flex', alignItems: 'center', gap: '0.3rem' }}>
          <svg width="22" height="10" aria-hidden="true">
            {e.band ? (
              <rect x="1" y="1" width="20" height="8" fill={e.colour} fillOpacity={0.2} />
            ) : (
              <line x1="1" y1="5" x2="21" y2="5" stroke={e.colour} strokeWidth={e.thin ? 1 : 2} strokeOpacity={e.thin ? 0.5 : 1} strokeDasharray={e.dasharray} />
            )}
          </svg>
          {e.label}
        </li>
      ))}
    </ul>
  );
}

/** The same key on screen: line swatches, the compared runs' line styles drawn solid / dashed in the foreground colour. */
export function curveScreenLegend(series: readonly CurveSeries[], theme: FigureTheme): ScreenLegendEntry[] {
  return legendItems(series).map((it) => ({ label: it.colourIndex === null ? it.label : humanLabel(it.label), colour: it.colourIndex === null ? theme.foreground : seriesColour(theme, it.colourIndex), dashed: it.dashed }));
}

const ACC_TICKS = [0, 0.25, 0.5, 0.75, 1];

/** Size of a step chart: fixed on screen; the column's width (and a 0.62 aspect) in print exports. */
export function stepChartSize(theme: FigureTheme, width = CHART_WIDTH, height = CHART_HEIGHT): { width: number; height: number } {
  if (!theme.fitWidth) return { width, height };
  return { width: Math.round(theme.fitWidth), height: Math.round(theme.fitWidth * 0.62) };
}

/**
 * The x axis of a step chart: from 0 to the last step drawn (or `xMax`, the planned total while a
 * training runs), never past it, with round ticks thinned so their labels never overlap.
 */
export function stepAxis(series: readonly CurveSeries[], plotWidth: number, fontSize: number, xMax?: number): { domain: [number, number]; ticks: number[] } {
  const end = xMax && xMax > 0 ? xMax : (stepExtent(series)?.[1] ?? 1);
  const domain: [number, number] = [0, end > 0 ? end : 1];
  const ticks = linearTicks(domain, { count: 5, fit: 'atMost' });
  return { domain, ticks: thinTicks(ticks, domain, plotWidth, fontSize, formatTick) };
}

/**
 * Lines over training steps, fixed size on screen (exports match it) and the column's width in print
 * exports. `yLog` puts the y axis on whole decades around the data; otherwise it spans [0, 1]
 * (accuracies).
 */
export function StepChart({ series, yLog = false, yLabel, xMax, width: w = CHART_WIDTH, height: h = CHART_HEIGHT }: { series: readonly CurveSeries[]; yLog?: boolean; yLabel: string; xMax?: number; width?: number; height?: number }) {
  const theme = useFigureTheme();
  const { width, height } = stepChartSize(theme, w, h);
  const rows = useMemo(() => mergeSeries(series), [series]);
  const banded = useMemo(() => series.filter((s) => (s.band?.length ?? 0) > 0), [series]);
  const fs = theme.fontSize;
  const domain: [number, number] = yLog ? logDomain(seriesValues(series)) : [0, 1];
  const yTicks = yLog ? decadeTicks(domain, { maxTicks: 8 }) : ACC_TICKS;
  const yFormat = yLog ? logTickLabel : formatTick;
  // Room for the widest y tick label, the tick, and the rotated axis title.
  const yAxisWidth = Math.ceil(Math.max(...yTicks.map((t) => textWidth(yFormat(t), fs))) + 10 + fs * 1.4);
  const margin = { top: Math.round(fs * 0.7), right: Math.round(fs * 1.6), bottom: Math.round(fs * 1.6), left: 4 };
  const x = stepAxis(series, width - margin.left - margin.right - yAxisWidth, fs, xMax);
  // Each band's [lo, hi] per row; on a log axis the lower edge stops at the axis (mean − sd may be ≤ 0).
  const yFloor = yLog ? domain[0] : -Infinity;
  const bandRanges = useMemo(
    () =>
      banded.map((s) => {
        const k = bandKeys(s.key);
        return { s, range: (r: CurveRow): [number, number] | null => (r[k.lo] === undefined ? null : [Math.max(r[k.lo], yFloor), r[k.hi]]) };
      }),
    [banded, yFloor],
  );
  // Recharts draws areas only in area and composed charts; a chart without bands stays a LineChart.
  const Chart = banded.length ? ComposedChart : LineChart;
  const tick = { fontSize: fs, fill: theme.muted, fontFamily: theme.fontFamily };
  const axisLabel = { fill: theme.muted, fontSize: fs, fontFamily: theme.fontFamily };
  return (
    <Chart width={width} height={height} data={rows} margin={margin}>
      <CartesianGrid stroke={theme.grid} />
      <XAxis
        dataKey="step"
        type="number"
        domain={x.domain}
        ticks={x.ticks}
        interval={0}
        allowDataOverflow
        allowDecimals={false}
        tick={tick}
        stroke={theme.muted}
        height={Math.round(fs * 1.6)}
        label={{ value: 'training step', position: 'insideBottom', offset: -Math.round(fs * 1.1), ...axisLabel }}
      />
      <YAxis
        type="number"
        scale={yLog ? 'log' : 'linear'}
        domain={domain}
        ticks={yTicks}
        interval={0}
        allowDataOverflow
        tickFormatter={yFormat}
        tick={tick}
        stroke={theme.muted}
        width={yAxisWidth}
        // Rotated, the title's glyphs rise a line-height left of its anchor: anchor it one font size in.
        label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: Math.round(fs), style: { textAnchor: 'middle' }, ...axisLabel }}
      />
      <Tooltip formatter={(v) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v)} labelFormatter={(s) => `step ${String(s)}`} />
      {/* Bands (mean ± 1 sd) first, under every line. */}
      {bandRanges.map(({ s, range }) => (
        <Area
          key={`${s.key}-band`}
          type="linear"
          dataKey={range}
          name={`${humanLabel(s.group)} ± 1 sd`}
          fill={seriesColour(theme, s.colourIndex)}
          fillOpacity={0.18}
          stroke="none"
          tooltipType="none"
          connectNulls
          isAnimationActive={false}
        />
      ))}
      {series.map((s) => (
        <Line
          key={s.key}
          type="linear"
          dataKey={s.key}
          name={`${humanLabel(s.group)}${s.run !== undefined ? ` · ${s.run}` : ''}`}
          stroke={seriesColour(theme, s.colourIndex)}
          strokeWidth={s.thin ? Math.max(0.75, theme.strokeWidth * 0.5) : theme.strokeWidth}
          strokeOpacity={s.thin ? 0.45 : undefined}
          strokeDasharray={dashArray(lineStyleOf(s), fs)}
          dot={false}
          connectNulls
          isAnimationActive={false}
        />
      ))}
    </Chart>
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
            {needsStepLegend(series) ? <StepLegend entries={curveStepLegend(series, theme)} style={CURVE_LEGEND_STYLE} /> : <ScreenLegend entries={curveScreenLegend(series, theme)} swatch="line" style={CURVE_LEGEND_STYLE} />}
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
