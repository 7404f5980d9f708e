import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { logTickLabel } from '../../../figure/axes';
import { fmt } from '../../../figure/heatmapFigure';
import { seriesColour, useFigureTheme } from '../../../figure/theme';
import type { ChartRow } from '../weightsData';

export interface Series {
  key: string;
  label: string;
}

export interface SeriesLineChartProps {
  rows: ChartRow[];
  xKey: string;
  series: Series[];
  xLabel: string;
  yLabel: string;
  yScale: 'log' | 'linear';
  /** Fixed y domain (shared between columns); default recharts' auto. */
  yDomain?: [number, number] | null;
  yTicks?: number[];
  xTicks?: number[];
  /** A vertical marker (e.g. the selected step). */
  markX?: number;
  width?: number;
  height?: number;
  dots?: boolean;
}

/** Integers as integers, else the short number. */
export function linearTick(v: number): string {
  return Number.isInteger(v) ? String(v) : fmt(v);
}

/** A fixed-size recharts line chart, one line per series, coloured and sized from the figure theme. */
export function SeriesLineChart({ rows, xKey, series, xLabel, yLabel, yScale, yDomain, yTicks, xTicks, markX, width = 500, height = 280, dots }: SeriesLineChartProps) {
  const theme = useFigureTheme();
  const tick = { fontSize: theme.fontSize, fill: theme.foreground };
  const label = { fontSize: theme.fontSize, fill: theme.muted };
  return (
    <LineChart width={width} height={height} data={rows} margin={{ top: 8, right: 16, bottom: 22, left: 14 }}>
      <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" />
      <XAxis
        dataKey={xKey}
        type="number"
        domain={['dataMin', 'dataMax']}
        ticks={xTicks}
        allowDecimals={false}
        tick={tick}
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
      {series.map((s, i) => (
        <Line
          key={s.key}
          dataKey={s.key}
          name={s.label}
          type="linear"
          stroke={seriesColour(theme, i)}
          strokeWidth={theme.strokeWidth}
          dot={dots ? { r: 2.5, fill: seriesColour(theme, i), strokeWidth: 0 } : false}
          connectNulls={false}
          isAnimationActive={false}
        />
      ))}
    </LineChart>
  );
}
