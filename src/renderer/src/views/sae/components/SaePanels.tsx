import type { ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, LabelList, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { SaeDetails, SaeFeatureInfo, SaeInterventionResult } from '../../../../../shared/api';
import { fmt } from '../../../figure/heatmapFigure';
import { Panel } from '../../../figure/Panel';
import { textWidth } from '../../../figure/text';
import { seriesColour, useFigureTheme } from '../../../figure/theme';
import {
  densityCsv,
  densityRows,
  examplesCsv,
  exampleTokens,
  histogramCsv,
  histogramRows,
  interventionBars,
  interventionCsv,
  logitCsv,
  logitRows,
  type FeatureRow,
} from '../saeData';

const W = 460;
const H = 260;

/** A fixed-width cell, so a panel's caption wraps to its figure instead of widening the panel. */
function Slot({ width, children }: { width: number; children: ReactNode }) {
  return <div style={{ width: width + 30, maxWidth: '100%' }}>{children}</div>;
}

/** Live features by log10 density; dead ones counted in the caption and the CSV. */
export function DensityPanel({ sae }: { sae: SaeDetails }) {
  const theme = useFigureTheme();
  const rows = densityRows(sae);
  const tick = { fontSize: theme.fontSize, fill: theme.foreground };
  const live = rows.reduce((a, r) => a + r.count, 0);
  return (
    <Slot width={W}>
      <Panel
        title="Feature density"
        caption={
          <>
            Live features by log₁₀ of the fraction of evaluation tokens they fire on
            {sae.nEvalTokens !== undefined ? ` (${sae.nEvalTokens.toLocaleString('en')} tokens)` : ''}.{' '}
            <span data-testid="sae-dead">
              {live} live, {sae.dead ?? '?'} dead (never fired){sae.dSae !== undefined ? ` of ${sae.dSae}` : ''}
            </span>
            .
          </>
        }
        fileName={`sae-density-${sae.name}`}
        csv={() => densityCsv(sae)}
        testId="sae-density"
      >
        {rows.length ? (
          <BarChart width={W} height={H} data={rows} margin={{ top: 12, right: 12, bottom: 22, left: 8 }}>
            <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="bin" tick={{ ...tick, fontSize: theme.fontSize - 2 }} stroke={theme.muted} interval={0} angle={-35} textAnchor="end" height={48} label={{ value: 'log₁₀ density', position: 'insideBottom', offset: -14, fontSize: theme.fontSize, fill: theme.muted }} />
            <YAxis allowDecimals={false} tick={tick} stroke={theme.muted} width={44} label={{ value: 'features', angle: -90, position: 'insideLeft', fontSize: theme.fontSize, fill: theme.muted, style: { textAnchor: 'middle' } }} />
            <Tooltip isAnimationActive={false} contentStyle={{ fontSize: theme.fontSize }} />
            <Bar dataKey="count" name="features" fill={seriesColour(theme, 0)} isAnimationActive={false} />
          </BarChart>
        ) : (
          <p className="view__empty">No density recorded (an SAE trained elsewhere: evaluate it with oocr sae eval).</p>
        )}
      </Panel>
    </Slot>
  );
}

/** The listed features' scores as bars (the figure of the feature list). */
export function FeatureBarsPanel({ rows, sort, label, vector, csv, selected, onSelect }: { rows: readonly FeatureRow[]; sort: 'density' | 'mi' | 'cos'; label?: string; vector?: string; csv: () => string; selected: number | null; onSelect: (i: number) => void }) {
  const theme = useFigureTheme();
  const key = sort === 'density' ? 'density' : sort === 'mi' ? 'mi' : 'cos';
  const yLabel = sort === 'density' ? 'density' : sort === 'mi' ? `MI with ${label} (bits)` : `cos with ${vector}`;
  const data = rows.map((r) => ({ feature: `#${r.index}`, index: r.index, value: (key === 'density' ? r.density : key === 'mi' ? r.mi : r.cos) ?? 0 }));
  const tick = { fontSize: theme.fontSize, fill: theme.foreground };
  const width = Math.max(W, 60 + data.length * 22);
  return (
    <Slot width={width}>
      <Panel
        title={`Features by ${sort === 'density' ? 'density' : sort === 'mi' ? 'relevance (MI)' : '|cosine|'}`}
        caption={sort === 'density' ? 'Fraction of evaluation tokens each feature fires on, densest first.' : sort === 'mi' ? `Mutual information between “fires anywhere in the prompt” and the prompt’s ${label}, highest first.` : `Cosine of each feature’s decoder direction with the study’s ${vector}, by |cos|.`}
        fileName={`sae-features-by-${sort}`}
        csv={csv}
        testId="sae-feature-bars"
      >
        <BarChart width={width} height={H} data={data} margin={{ top: 12, right: 12, bottom: 8, left: 8 }}>
          <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="feature" tick={{ ...tick, fontSize: theme.fontSize - 2 }} stroke={theme.muted} interval={0} angle={-60} textAnchor="end" height={44} />
          <YAxis tick={tick} stroke={theme.muted} width={52} tickFormatter={(v: number) => fmt(v)} label={{ value: yLabel, angle: -90, position: 'insideLeft', fontSize: theme.fontSize, fill: theme.muted, style: { textAnchor: 'middle' } }} />
          <Tooltip isAnimationActive={false} formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} contentStyle={{ fontSize: theme.fontSize }} />
          <ReferenceLine y={0} stroke={theme.muted} />
          <Bar dataKey="value" name={yLabel} isAnimationActive={false} onClick={(_d, i) => data[i] && onSelect(data[i].index)} style={{ cursor: 'pointer' }}>
            {data.map((d) => (
              <Cell key={d.index} fill={d.index === selected ? seriesColour(theme, 5) : seriesColour(theme, 0)} />
            ))}
          </Bar>
        </BarChart>
      </Panel>
    </Slot>
  );
}

/** Advance of a monospace glyph in font sizes (DejaVu Sans Mono, Menlo, Consolas are all ~0.6). */
const MONO = 0.62;
const MONO_FAMILY = 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace';

/** Top-activating prompts as an SVG of tokens, the maximum's token boxed (so the export is the figure). */
export function ExamplesPanel({ feature }: { feature: SaeFeatureInfo }) {
  const theme = useFigureTheme();
  const fs = theme.fontSize;
  const examples = feature.topExamples ?? [];
  const lineH = fs * 1.9;
  const left = fs * 4.2;
  let width = 420;
  const lines = examples.map((e, row) => {
    let x = left;
    const y = (row + 1) * lineH;
    const toks = exampleTokens(e).map((t, i) => {
      const w = t.text.length * fs * MONO + fs * 0.5;
      const el = { x, w, t, i };
      x += w + fs * 0.15;
      return el;
    });
    width = Math.max(width, x + fs);
    return { y, e, toks };
  });
  const height = Math.max(lineH, (examples.length + 0.5) * lineH);
  return (
    <Slot width={width}>
      <Panel title={`Feature #${feature.index}: top-activating prompts`} caption="One example per prompt, highest activation first: the activation, then the prompt’s tokens with the token of the maximum boxed." fileName={`sae-feature-${feature.index}-examples`} csv={() => examplesCsv(feature)} testId="sae-examples">
        {examples.length ? (
          <svg width={width} height={height} role="img" aria-label={`Top examples of feature ${feature.index}`} data-testid="sae-examples-svg">
            {lines.map((l, row) => (
              <g key={row} data-testid="sae-example">
                {l.toks
                  .filter((k) => k.t.max)
                  .map((k) => (
                    <rect key={`m${k.i}`} x={k.x - 1} y={l.y - fs * 1.1} width={k.w + 2} height={fs * 1.5} rx={3} fill={seriesColour(theme, 5)} fillOpacity={0.25} stroke={seriesColour(theme, 5)} />
                  ))}
                <text x={left - fs * 0.6} y={l.y} fontSize={fs} fill={theme.muted} textAnchor="end">
                  {fmt(l.e.activation)}
                </text>
                {l.toks.map((k) => (
                  <text key={k.i} x={k.x + fs * 0.25} y={l.y} fontSize={fs} fontFamily={MONO_FAMILY} fill={theme.foreground} fontWeight={k.t.max ? 700 : 400} data-max={k.t.max ? 'true' : undefined}>
                    {k.t.text}
                  </text>
                ))}
              </g>
            ))}
          </svg>
        ) : (
          <p className="view__empty">This feature never fired on the evaluation prompts.</p>
        )}
      </Panel>
    </Slot>
  );
}

/** Histogram of the feature's non-zero activations. */
export function HistogramPanel({ feature }: { feature: SaeFeatureInfo }) {
  const theme = useFigureTheme();
  const rows = histogramRows(feature).map((r) => ({ ...r, bin: fmt(r.x) }));
  const tick = { fontSize: theme.fontSize, fill: theme.foreground };
  return (
    <Slot width={W - 40}>
      <Panel title={`Feature #${feature.index}: activation histogram`} caption="Non-zero activations on the evaluation tokens (a reservoir sample of up to 256), 20 bins from 0 to the maximum." fileName={`sae-feature-${feature.index}-histogram`} csv={() => histogramCsv(feature)} testId="sae-histogram">
        <BarChart width={W - 40} height={H - 40} data={rows} margin={{ top: 12, right: 12, bottom: 20, left: 8 }} barCategoryGap={1}>
          <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="bin" tick={{ ...tick, fontSize: theme.fontSize - 2 }} stroke={theme.muted} label={{ value: 'activation', position: 'insideBottom', offset: -12, fontSize: theme.fontSize, fill: theme.muted }} />
          <YAxis allowDecimals={false} tick={tick} stroke={theme.muted} width={40} label={{ value: 'count', angle: -90, position: 'insideLeft', fontSize: theme.fontSize, fill: theme.muted, style: { textAnchor: 'middle' } }} />
          <Tooltip isAnimationActive={false} contentStyle={{ fontSize: theme.fontSize }} />
          <Bar dataKey="count" fill={seriesColour(theme, 2)} isAnimationActive={false} />
        </BarChart>
      </Panel>
    </Slot>
  );
}

/** Tokens the decoder direction promotes and suppresses through W_U. */
export function LogitPanel({ feature }: { feature: SaeFeatureInfo }) {
  const theme = useFigureTheme();
  const rows = logitRows(feature, 8);
  const tick = { fontSize: theme.fontSize - 1, fill: theme.foreground };
  const labelW = Math.min(140, Math.max(50, ...rows.map((r) => textWidth(r.token, theme.fontSize - 1) + 10)));
  return (
    <Slot width={W - 40}>
      <Panel title={`Feature #${feature.index}: logit effects`} caption="The decoder direction through the unembedding (final norm ignored): the tokens it promotes most (top) and suppresses most (bottom)." fileName={`sae-feature-${feature.index}-logits`} csv={() => logitCsv(feature)} testId="sae-logits">
        {rows.length ? (
          <BarChart width={W - 40} height={Math.max(160, rows.length * 18 + 40)} data={rows} layout="vertical" margin={{ top: 8, right: 40, bottom: 8, left: 8 }}>
            <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" horizontal={false} />
            <XAxis type="number" tick={tick} stroke={theme.muted} tickFormatter={(v: number) => fmt(v)} />
            <YAxis type="category" dataKey="token" tick={tick} stroke={theme.muted} width={labelW} interval={0} />
            <ReferenceLine x={0} stroke={theme.muted} />
            <Tooltip isAnimationActive={false} formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} contentStyle={{ fontSize: theme.fontSize }} />
            <Bar dataKey="value" name="logit effect" isAnimationActive={false}>
              {rows.map((r, i) => (
                <Cell key={i} fill={r.kind === 'promoted' ? seriesColour(theme, 2) : seriesColour(theme, 5)} />
              ))}
            </Bar>
          </BarChart>
        ) : (
          <p className="view__empty">No logit effects: the hook is not in the residual stream, or the model has no unembedding.</p>
        )}
      </Panel>
    </Slot>
  );
}

/** Cosine of the feature's decoder direction with each study vector. */
export function CosinePanel({ feature, norms }: { feature: SaeFeatureInfo; norms: Record<string, number> }) {
  const theme = useFigureTheme();
  const rows = Object.entries(feature.cosines).map(([name, cos]) => ({ name, cos }));
  const tick = { fontSize: theme.fontSize, fill: theme.foreground };
  return (
    <Slot width={W - 120}>
      <Panel
        title={`Feature #${feature.index}: cosine with the study’s vectors`}
        caption="Cosine of the decoder direction with the trained steering vector (trained_sv), the LoRA’s natural vector (natural_sv) and the second seed’s trained vector."
        fileName={`sae-feature-${feature.index}-cosines`}
        csv={() => ['vector,norm,cosine', ...rows.map((r) => `${r.name},${norms[r.name] ?? ''},${r.cos}`)].join('\n') + '\n'}
        testId="sae-cosines"
      >
        <BarChart width={W - 120} height={200} data={rows} margin={{ top: 18, right: 12, bottom: 8, left: 8 }}>
          <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="name" tick={tick} stroke={theme.muted} interval={0} />
          <YAxis domain={[-1, 1]} ticks={[-1, -0.5, 0, 0.5, 1]} tick={tick} stroke={theme.muted} width={40} label={{ value: 'cosine', angle: -90, position: 'insideLeft', fontSize: theme.fontSize, fill: theme.muted, style: { textAnchor: 'middle' } }} />
          <ReferenceLine y={0} stroke={theme.muted} />
          <Bar dataKey="cos" fill={seriesColour(theme, 1)} isAnimationActive={false}>
            <LabelList dataKey="cos" position="top" formatter={(v: unknown) => (typeof v === 'number' ? v.toFixed(2) : '')} style={{ fontSize: theme.fontSize - 2, fill: theme.foreground }} />
          </Bar>
        </BarChart>
      </Panel>
    </Slot>
  );
}

/** Held-out accuracy under the feature's ablation and steering, beside the base, the steered model, random directions and chance. */
export function InterventionPanel({ result }: { result: SaeInterventionResult }) {
  const theme = useFigureTheme();
  const rows = interventionBars(result);
  const tick = { fontSize: theme.fontSize - 1, fill: theme.foreground };
  const labelW = Math.min(230, Math.max(...rows.map((r) => textWidth(r.label, theme.fontSize - 1) + 12)));
  return (
    <Slot width={W + 120}>
      <Panel
        title={`Feature #${result.feature}: ablation and steering`}
        caption={
          <>
            Held-out accuracy on the study’s {result.nHeldOut} questions about the codename ({result.study}); α = {fmt(result.alpha)} (‖v‖ = {fmt(result.trainedVectorNorm)}); cos(feature, v) = {result.cosineWithTrained.toFixed(2)}. Dashed: chance ({fmt(result.chance)}). The best of the{' '}
            {result.randomDirectionAcc.n} random directions: {fmt(result.randomDirectionAcc.max)}.
          </>
        }
        fileName={`sae-feature-${result.feature}-intervention`}
        csv={() => interventionCsv(result)}
        testId="sae-intervention"
      >
        <BarChart width={W + 120} height={rows.length * 30 + 50} data={rows} layout="vertical" margin={{ top: 20, right: 48, bottom: 8, left: 8 }}>
          <CartesianGrid stroke={theme.grid} strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} tick={tick} stroke={theme.muted} />
          <YAxis type="category" dataKey="label" tick={tick} stroke={theme.muted} width={labelW} interval={0} />
          <ReferenceLine x={result.chance} stroke={theme.foreground} strokeDasharray="6 4" label={{ value: 'chance', position: 'top', fontSize: theme.fontSize - 2, fill: theme.foreground }} />
          <Tooltip isAnimationActive={false} formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} contentStyle={{ fontSize: theme.fontSize }} />
          <Bar dataKey="acc" name="held-out accuracy" isAnimationActive={false} minPointSize={1}>
            {rows.map((r, i) => (
              <Cell key={r.key} fill={seriesColour(theme, i < 2 ? 7 : i < 5 ? 0 : i === 5 ? 5 : 7)} />
            ))}
            <LabelList dataKey="acc" position="right" formatter={(v: unknown) => (typeof v === 'number' ? v.toFixed(2) : '')} style={{ fontSize: theme.fontSize - 2, fill: theme.foreground }} />
          </Bar>
        </BarChart>
      </Panel>
    </Slot>
  );
}
