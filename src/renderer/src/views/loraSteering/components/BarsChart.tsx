import { Bar, BarChart, CartesianGrid, ErrorBar, LabelList, ReferenceArea, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { fmt } from '../../../figure/heatmapFigure';
import { seriesColour, useFigureTheme } from '../../../figure/theme';

export interface BarSeries {
  key: string;
  label: string;
}

export interface RefLine {
  y: number;
  label: string;
  dashed?: boolean;
  /**
   * Draw the line only across this category's group of bars (e.g. chance, which applies to one
   * measure and not to the others), its label above its left end; default: across the whole plot.
   */
  category?: string;
}

/** Props recharts gives a ReferenceArea's shape: its rectangle in layout units. */
interface AreaShapeProps {
  x?: number;
  y?: number;
  width?: number;
}

/** A horizontal line across one category's band, labelled above its left end. */
function bandLine(r: RefLine, stroke: string, strokeWidth: number, fontSize: number) {
  // A named function: recharts calls it with the band's rectangle (zero height at y).
  return function BandLine({ x = 0, y = 0, width = 0 }: AreaShapeProps) {
    return (
      <g className="bars-chart__band-line">
        <line x1={x} y1={y} x2={x + width} y2={y} stroke={stroke} strokeWidth={strokeWidth} strokeDasharray={r.dashed ? '6 4' : undefined} />
        {r.label && (
          <text x={x + fontSize * 0.3} y={y - fontSize * 0.35} fontSize={fontSize} fill={stroke}>
            {r.label}
          </text>
        )}
      </g>
    );
  };
}

export interface BarsChartProps {
  rows: Record<string, string | number | number[]>[];
  categoryKey: string;
  series: readonly BarSeries[];
  yDomain: [number, number];
  yTicks?: number[];
  yLabel: string;
  refLines?: RefLine[];
  width?: number;
  height?: number;
  /** Write each bar's value above it (few bars). */
  values?: boolean;
  /** First palette index (keeps colours stable across panels that share series). */
  colourOffset?: number;
  /** Stack the series (rows that set one series each: one bar per category, coloured by its series). */
  stacked?: boolean;
  /** Rotate the category labels by this angle (degrees, e.g. -60) for many or long categories. */
  xTickAngle?: number;
  /** Height of the category axis (room for rotated labels). */
  xAxisHeight?: number;
  /** Error bars: series key → the row key holding [below, above] offsets from the bar's value (e.g. a 95% interval). */
  errorKeys?: Record<string, string>;
}

/** Grouped bars at a fixed size, coloured and sized from the figure theme; labels live in the SVG. */
export function BarsChart({ rows, categoryKey, series, yDomain, yTicks, yLabel, refLines = [], width = 420, height = 280, values = true, colourOffset = 0, stacked = false, xTickAngle, xAxisHeight, errorKeys }: BarsChartProps) {
  const theme = useFigureTheme();
  const tick = { fontSize: theme.fontSize, fill: theme.foreground };
  const muted = { fontSize: theme.fontSize, fill: theme.muted };
  return (
    <BarChart width={width} height={height} data={rows} margin={{ top: 18, right: 16, bottom: 8, left: 14 }} barCategoryGap="22%" barGap={2}>
      <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" vertical={false} />
      {xTickAngle === undefined ? (
        <XAxis dataKey={categoryKey} type="category" tick={tick} stroke={theme.muted} interval={0} />
      ) : (
        <XAxis dataKey={categoryKey} type="category" tick={{ ...tick, fontSize: theme.fontSize - 2 }} stroke={theme.muted} interval={0} angle={xTickAngle} textAnchor="end" height={xAxisHeight} />
      )}
      <YAxis
        domain={yDomain}
        ticks={yTicks}
        allowDataOverflow
        tick={tick}
        stroke={theme.muted}
        tickFormatter={(v: number) => fmt(v)}
        width={52}
        label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 2, style: { textAnchor: 'middle' }, ...muted }}
      />
      <Tooltip isAnimationActive={false} formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} contentStyle={{ fontSize: theme.fontSize }} cursor={{ fill: theme.grid, fillOpacity: 0.35 }} />
      {series.map((s, i) => (
        <Bar key={s.key} dataKey={s.key} name={s.label} fill={seriesColour(theme, i + colourOffset)} minPointSize={values ? 1 : 0} stackId={stacked ? 'stack' : undefined} isAnimationActive={false}>
          {errorKeys?.[s.key] && <ErrorBar dataKey={errorKeys[s.key]} direction="y" width={4} stroke={theme.foreground} strokeWidth={1} />}
          {values && <LabelList dataKey={s.key} position="top" formatter={(v: unknown) => (typeof v === 'number' ? fmt(v) : '')} style={{ fontSize: theme.fontSize - 2, fill: theme.foreground }} />}
        </Bar>
      ))}
      {refLines.map((r) =>
        r.category !== undefined ? (
          <ReferenceArea
            key={r.label || `y${r.y}`}
            x1={r.category}
            x2={r.category}
            y1={r.y}
            y2={r.y}
            ifOverflow="visible"
            zIndex={400}
            shape={bandLine(r, theme.foreground, r.dashed ? theme.strokeWidth : 1, theme.fontSize - 1)}
          />
        ) : (
          <ReferenceLine
            key={r.label}
            y={r.y}
            stroke={theme.foreground}
            strokeWidth={r.dashed ? theme.strokeWidth : 1}
            strokeDasharray={r.dashed ? '6 4' : undefined}
            label={r.label ? { value: r.label, position: 'insideTopRight', fontSize: theme.fontSize - 1, fill: theme.foreground } : undefined}
          />
        ),
      )}
    </BarChart>
  );
}
