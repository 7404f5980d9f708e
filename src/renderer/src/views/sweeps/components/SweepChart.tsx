import { CartesianGrid, ComposedChart, ErrorBar, Line, ReferenceLine, Scatter, Tooltip, XAxis, YAxis } from 'recharts';
import { formatTick } from '../../../figure/axes';
import { fmt } from '../../../figure/heatmapFigure';
import { seriesColour, useFigureTheme } from '../../../figure/theme';
import type { SweepFigure, SweepPoint } from '../sweepsData';

export interface SweepChartProps {
  fig: SweepFigure;
  xLabel: string;
  yLabel: string;
  xDomain: [number, number] | null;
  xTicks?: number[];
  /** y domain: a little over [0, 1] for accuracies (dots at 1.0 stay whole and clickable); auto otherwise. */
  yDomain?: [number, number];
  yTicks?: number[];
  /** Chance level of the metric: a dashed horizontal line. */
  chance?: number;
  /** Opens a cell's run (a dot clicked). */
  onOpen?: (p: SweepPoint) => void;
  width?: number;
  height?: number;
}

/** Pixels between the dots of the seeds at one x (side by side around the mean's error bar). */
const DOT_SPREAD = 7;

interface DotProps {
  cx?: number;
  cy?: number;
  payload?: SweepPoint;
}

/**
 * The sweep's result: per series (a second swept variable) the mean over seeds as a line with ±1 sd
 * error bars, every seed as a dot (click: open its run), chance as a dashed line. Fixed size, theme
 * colours, so the SVG exports as drawn.
 */
export function SweepChart({ fig, xLabel, yLabel, xDomain, xTicks, yDomain, yTicks, chance, onOpen, width = 720, height = 380 }: SweepChartProps) {
  const theme = useFigureTheme();
  const tick = { fontSize: theme.fontSize, fill: theme.foreground };
  const label = { fontSize: theme.fontSize, fill: theme.muted };
  const log = fig.axes.xLog;
  return (
    <ComposedChart className="sweep-chart" width={width} height={height} margin={{ top: 12, right: 20, bottom: 24, left: 14 }}>
      <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" />
      <XAxis
        dataKey="x"
        type="number"
        scale={log ? 'log' : 'linear'}
        domain={xDomain ?? ['auto', 'auto']}
        allowDataOverflow={xDomain !== null}
        ticks={xTicks}
        tickFormatter={(v: number) => (Number.isInteger(v) ? String(v) : formatTick(v))}
        tick={tick}
        stroke={theme.muted}
        height={36}
        label={{ value: xLabel, position: 'insideBottom', offset: -12, ...label }}
      />
      <YAxis
        type="number"
        domain={yDomain ?? ['auto', 'auto']}
        ticks={yTicks}
        allowDataOverflow={yDomain !== undefined}
        tickFormatter={(v: number) => fmt(v)}
        tick={tick}
        stroke={theme.muted}
        width={58}
        label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 2, style: { textAnchor: 'middle' }, ...label }}
      />
      <Tooltip isAnimationActive={false} formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} labelFormatter={(x) => `${xLabel} ${String(x)}`} contentStyle={{ fontSize: theme.fontSize }} />
      {chance !== undefined && (
        <ReferenceLine
          y={chance}
          stroke={theme.muted}
          strokeWidth={Math.max(1, theme.strokeWidth * 0.8)}
          strokeDasharray="6 4"
          ifOverflow="extendDomain"
          className="sweep-chance"
          label={{ value: `chance ${fmt(chance)}`, position: 'insideBottomRight', fontSize: theme.fontSize * 0.9, fill: theme.muted }}
        />
      )}
      {fig.series.flatMap((s, i) => {
        const colour = seriesColour(theme, i);
        return [
          <Line
            key={`${s.key}-mean`}
            data={s.means}
            dataKey="mean"
            name={`${s.label} (mean)`}
            className={`sweep-mean sweep-mean--${s.key}`}
            type="linear"
            stroke={colour}
            strokeWidth={theme.strokeWidth}
            dot={{ r: 2.5, fill: colour, strokeWidth: 0 }}
            activeDot={false}
            isAnimationActive={false}
          >
            <ErrorBar dataKey="err" direction="y" width={6} stroke={colour} strokeWidth={Math.max(1, theme.strokeWidth * 0.8)} />
          </Line>,
          <Scatter
            key={`${s.key}-seeds`}
            data={s.points}
            dataKey="y"
            name={s.label}
            fill={colour}
            isAnimationActive={false}
            shape={(props: DotProps) => {
              const p = props.payload;
              if (props.cx === undefined || props.cy === undefined || !p) return <g />;
              return (
                <circle
                  cx={props.cx + p.spread * DOT_SPREAD}
                  cy={props.cy}
                  r={4}
                  fill={colour}
                  fillOpacity={0.45}
                  stroke={colour}
                  strokeWidth={1}
                  className="sweep-point"
                  data-testid="sweep-point"
                  data-cell={p.cell}
                  style={onOpen ? { cursor: 'pointer' } : undefined}
                  onClick={onOpen ? () => onOpen(p) : undefined}
                >
                  <title>{`${p.cell}: ${fmt(p.y)} (click to open its run)`}</title>
                </circle>
              );
            }}
          />,
        ];
      })}
    </ComposedChart>
  );
}
