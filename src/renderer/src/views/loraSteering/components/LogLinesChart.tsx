import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { decadeTicks, logTickLabel } from '../../../figure/axes';
import { fmt } from '../../../figure/heatmapFigure';
import { seriesColour, useFigureTheme } from '../../../figure/theme';

export interface LogLinesChartProps {
  rows: Record<string, number | null>[];
  xKey: string;
  series: readonly { key: string; label: string }[];
  /** y domain: whole decades on the log axis; the fixed range on a linear one. */
  domain: [number, number] | null;
  /** 'linear' for shares and cosines (default: log). */
  yScale?: 'log' | 'linear';
  /** Linear axis only: its ticks. */
  yTicks?: number[];
  xLabel: string;
  yLabel: string;
  /** A vertical dashed marker between indices (e.g. after the LoRA rank). */
  markX?: { x: number; label: string };
  width?: number;
  height?: number;
}

/**
 * Where a vertical marker's label goes: beside the line on the side with more room, so a marker at
 * the axis's start (the hook at layer 0) keeps its label inside the plot, clear of the y tick labels.
 */
export function markLabelPosition(x: number, xs: readonly number[]): 'insideTopLeft' | 'insideTopRight' {
  if (!xs.length) return 'insideTopRight';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return x - lo < (hi - lo) / 2 ? 'insideTopLeft' : 'insideTopRight';
}

/** Lines with dots on a log y axis spanning whole decades (or a linear one); fixed size, theme colours. */
export function LogLinesChart({ rows, xKey, series, domain, yScale = 'log', yTicks, xLabel, yLabel, markX, width = 420, height = 280 }: LogLinesChartProps) {
  const log = yScale === 'log';
  const theme = useFigureTheme();
  const tick = { fontSize: theme.fontSize, fill: theme.foreground };
  const muted = { fontSize: theme.fontSize, fill: theme.muted };
  const xs = rows.map((r) => r[xKey]).filter((x): x is number => typeof x === 'number');
  const xTicks = xs.length <= 12 ? xs : undefined;
  return (
    <LineChart width={width} height={height} data={rows} margin={{ top: 18, right: 16, bottom: 22, left: 14 }}>
      <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" />
      <XAxis dataKey={xKey} type="number" domain={['dataMin', 'dataMax']} ticks={xTicks} allowDecimals={false} tick={tick} stroke={theme.muted} label={{ value: xLabel, position: 'insideBottom', offset: -12, ...muted }} />
      <YAxis
        scale={yScale}
        domain={domain ?? ['auto', 'auto']}
        ticks={log ? (domain ? decadeTicks(domain) : undefined) : yTicks}
        allowDataOverflow={!!domain}
        tick={tick}
        stroke={theme.muted}
        tickFormatter={log ? logTickLabel : (v: number) => fmt(v)}
        width={52}
        label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 2, style: { textAnchor: 'middle' }, ...muted }}
      />
      <Tooltip isAnimationActive={false} formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} labelFormatter={(x) => `${xLabel} ${String(x)}`} contentStyle={{ fontSize: theme.fontSize }} />
      {markX && <ReferenceLine x={markX.x} stroke={theme.muted} strokeDasharray="4 3" label={{ value: markX.label, position: markLabelPosition(markX.x, xs), offset: theme.fontSize * 0.4, fontSize: theme.fontSize - 1, fill: theme.muted }} />}
      {series.map((s, i) => (
        <Line key={s.key} dataKey={s.key} name={s.label} type="linear" stroke={seriesColour(theme, i)} strokeWidth={theme.strokeWidth} dot={{ r: 3, fill: seriesColour(theme, i), strokeWidth: 0 }} connectNulls={false} isAnimationActive={false} />
      ))}
    </LineChart>
  );
}
