import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { logTickLabel } from '../../../figure/axes';
import { fmt } from '../../../figure/heatmapFigure';
import { seriesColour, useFigureTheme } from '../../../figure/theme';
import type { ChartRow } from '../weightsData';

export interface Series {
  key: string;
  label: string;
  /** Palette index (default: the series' position). */
  colour?: number;
  /** Markers on this series (default: the chart's `dots`). */
  dots?: boolean;
  dashed?: boolean;
  /** Extra class on the series' `<g class="recharts-line">` (tests find a run's line by it). */
  className?: string;
  /** Extra class on each of its markers (recharts draws them in a layer of their own, outside the line's `<g>`). */
  dotClassName?: string;
}

export interface SeriesLineChartProps {
  rows: ChartRow[];
  xKey: string;
  series: Series[];
  xLabel: string;
  yLabel: string;
  yScale: 'log' | 'linear';
  xScale?: 'log' | 'linear';
  /** Fixed x domain (default: the data's extent). */
  xDomain?: [number, number];
  /** Fixed y domain (shared between panels); default recharts' auto. */
  yDomain?: [number, number] | null;
  yTicks?: number[];
  xTicks?: number[];
  /** A vertical marker (e.g. the selected step). */
  markX?: number;
  /** A horizontal marker (e.g. a threshold) and its label. */
  markY?: number;
  markYLabel?: string;
  width?: number;
  height?: number;
  dots?: boolean;
  /** Draw across missing values (series sampled at different steps). */
  connectNulls?: boolean;
}

/** Integers as integers, else the short number. */
export function linearTick(v: number): string {
  return Number.isInteger(v) ? String(v) : fmt(v);
}

/**
 * Gap (layout units) between the x axis and its tick labels, so that the first x label never touches
 * the lowest y label at the origin (a y label is centred on its tick and reaches about 0.57 em below
 * the axis line; an x label's glyphs start about 0.2 em above its top).
 */
export function xTickMargin(fontSize: number): number {
  return Math.max(2, Math.ceil(fontSize * 0.8 - 5));
}

/** A fixed-size recharts line chart, one line per series, coloured and sized from the figure theme. */
export function SeriesLineChart({ rows, xKey, series, xLabel, yLabel, yScale, xScale = 'linear', xDomain, yDomain, yTicks, xTicks, markX, markY, markYLabel, width = 500, height = 280, dots, connectNulls = false }: SeriesLineChartProps) {
  const theme = useFigureTheme();
  const tick = { fontSize: theme.fontSize, fill: theme.foreground };
  const label = { fontSize: theme.fontSize, fill: theme.muted };
  const tickMargin = xTickMargin(theme.fontSize);
  return (
    <LineChart width={width} height={height} data={rows} margin={{ top: 8, right: 16, bottom: 22, left: 14 }}>
      <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" />
      <XAxis
        dataKey={xKey}
        type="number"
        scale={xScale}
        domain={xDomain ?? ['dataMin', 'dataMax']}
        ticks={xTicks}
        allowDecimals={false}
        allowDataOverflow={!!xDomain}
        tick={tick}
        tickMargin={tickMargin}
        height={30 + tickMargin - 2}
        stroke={theme.muted}
        label={{ value: xLabel, position: 'insideBottom', offset: -12, ...label }}
      />
      <YAxis
        scale={yScale}
        domain={yDomain ?? (yScale === 'log' ? ['auto', 'auto'] : [0, 'auto'])}
        ticks={yTicks}
        allowDataOverflow={!!yDomain}
        tick={tick}
        stroke={theme.muted}
        tickFormatter={yScale === 'log' ? logTickLabel : linearTick}
        width={58}
        label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 2, style: { textAnchor: 'middle' }, ...label }}
      />
      <Tooltip
        isAnimationActive={false}
        formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))}
        labelFormatter={(x) => `${xLabel} ${String(x)}`}
        contentStyle={{ fontSize: theme.fontSize }}
      />
      {markX !== undefined && <ReferenceLine x={markX} stroke={theme.muted} strokeDasharray="4 3" ifOverflow="extendDomain" />}
      {markY !== undefined && (
        <ReferenceLine
          y={markY}
          stroke={theme.muted}
          strokeDasharray="2 3"
          ifOverflow="hidden"
          label={markYLabel ? { value: markYLabel, position: 'insideBottomLeft', fontSize: theme.fontSize * 0.9, fill: theme.muted } : undefined}
        />
      )}
      {series.map((s, i) => {
        const colour = seriesColour(theme, s.colour ?? i);
        return (
          <Line
            key={s.key}
            dataKey={s.key}
            name={s.label}
            className={s.className}
            type="linear"
            stroke={colour}
            strokeWidth={theme.strokeWidth}
            strokeDasharray={s.dashed ? '6 3' : undefined}
            dot={(s.dots ?? dots) ? { r: 3, fill: colour, stroke: theme.background, strokeWidth: 1, className: s.dotClassName } : false}
            connectNulls={connectNulls}
            isAnimationActive={false}
          />
        );
      })}
    </LineChart>
  );
}
