import { useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { LensAnalysis } from '../../../../../shared/api';
import { standaloneSvg } from '../../../figure/exportFigure';
import { Heatmap, heatmapSvgBody } from '../../../figure/Heatmap';
import { fmt, heatmapLayout } from '../../../figure/heatmapFigure';
import { Panel } from '../../../figure/Panel';
import { useFigureTheme } from '../../../figure/theme';
import { dlaChartHeight, dlaCsv, dlaSummary, lensCsv, lensMatrix, lensRanks } from '../lensPatchingData';

/** How the answer was chosen, in a caption. */
const ANSWER_SOURCE: Record<LensAnalysis['answerSource'], string> = { task: "the task's true answer", given: 'chosen', predicted: "predicted: the model's top prediction" };

/** How DLA's wrong token was chosen, in a caption. */
function wrongReason(lens: LensAnalysis): string {
  const t = lens.attribution;
  if (t.wrongSource === 'task') return `the most likely other answer${lens.split ? ` of ${lens.split}` : ''}`;
  if (t.wrongSource === 'predicted') return `the model's most likely token other than ${t.answer}`;
  return 'chosen';
}

/** (a) The logit lens: probability of the top tokens (and the answer) at each depth, with the answer's rank per hook. */
export function LogitLensPanel({ lens, topK }: { lens: LensAnalysis; topK: number }) {
  const theme = useFigureTheme();
  const m = useMemo(() => lensMatrix(lens), [lens]);
  const ranks = useMemo(() => lensRanks(lens), [lens]);
  const pos = lens.lens.position;
  const title = 'Logit lens';
  return (
    <Panel
      title={title}
      testId="lens-heatmap"
      fileName={`logit-lens-${lens.id}-step-${lens.step}`}
      caption={
        <>
          Probability of each token when the {lens.lens.layerNorm ? 'final LayerNorm (statistics recomputed per hook) and ' : ''}unembedding read the residual stream at
          each depth, position {pos} (<code>{lens.tokens[pos]}</code>). Columns: the answer, then every token in some hook's top {topK}; hatched grey (key under the colour bar) = not in that hook's top {topK}, distinct from a probability of 0; colour from 0 to the largest probability shown. Answer{' '}
          <strong>{lens.answer}</strong> ({ANSWER_SOURCE[lens.answerSource]}), rank by depth: {ranks.map((r) => (r.rank === null ? '–' : r.rank)).join(' → ')}.
        </>
      }
      csv={() => lensCsv(lens)}
      // Laid out at the view's size and scaled to a column: fitted to one, a few hooks' rows would be
      // shorter than their labels (thinned) and the rotated token labels would take the cells' room.
      svg={() => {
        const L = heatmapLayout(m.spec, theme);
        return standaloneSvg(heatmapSvgBody(m.spec, theme), L.totalWidth, L.totalHeight, theme, { title: `Logit lens: ${lens.id}, step ${lens.step}, answer ${lens.answer}` });
      }}
    >
      <Heatmap {...m.spec} />
      <table className="data" data-testid="lens-ranks" style={{ marginTop: '0.5rem' }}>
        <thead>
          <tr>
            <th>depth</th>
            <th>hook</th>
            <th>rank of {lens.answer}</th>
            <th>p({lens.answer})</th>
            <th>top-1</th>
            <th>p(top-1)</th>
          </tr>
        </thead>
        <tbody>
          {ranks.map((r) => (
            <tr key={r.hook}>
              <td className="num">{r.depth}</td>
              <td>
                <code>{r.hook}</code>
              </td>
              <td className="num">{r.rank ?? '–'}</td>
              <td className="num">{r.answerProb === null ? '–' : fmt(r.answerProb)}</td>
              <td>{r.topToken}</td>
              <td className="num">{fmt(r.topProb)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

/**
 * (b) Direct logit attribution: each component's direct contribution to the logit difference answer −
 * wrong (by default; or the centred or raw answer logit), as horizontal bars.
 */
export function DlaPanel({ lens }: { lens: LensAnalysis }) {
  const theme = useFigureTheme();
  const s = useMemo(() => dlaSummary(lens), [lens]);
  const data = useMemo(() => s.bars.map((b) => ({ label: b.label, raises: b.value >= 0 ? b.value : null, lowers: b.value < 0 ? b.value : null })), [s]);
  const up = theme.palette[0];
  const down = theme.palette[5];
  const target = s.method === 'logit-diff' ? `logit(${lens.answer}) − logit(${s.baseline ?? '?'})` : s.method === 'centred' ? `logit(${lens.answer}) − mean logit` : `logit(${lens.answer})`;
  const what = s.method === 'logit-diff' ? 'logit difference' : s.method === 'centred' ? 'centred logit' : 'logit';
  const height = dlaChartHeight(data.length);
  return (
    <Panel
      title="Direct logit attribution"
      testId="lens-dla"
      fileName={`dla-${lens.id}-step-${lens.step}`}
      caption={
        <>
          <span data-testid="dla-attribution">
            Attribution: <strong>{s.attribution}</strong>
            {s.method === 'logit-diff' && ` (${lens.attribution.wrong}: ${wrongReason(lens)})`}.
          </span>{' '}
          Direct contribution of each component to {target} at position {s.position}. Bias (unembedding and final LayerNorm biases, not drawn): <strong>{fmt(s.bias)}</strong>; total {what}:{' '}
          <strong data-testid="dla-total">{fmt(s.logit)}</strong> (Σ components + bias = <span data-testid="dla-sum">{fmt(s.sum)}</span>).{' '}
          {s.method === 'logit' && 'A raw logit also carries what every token shares, so its bars can all be negative while p(answer) is 1; a logit difference does not. '}
          {s.layerNorm === 'frozen-scale' ? 'Final LayerNorm scale frozen at its value on the full residual: the sum is exact, each bar is not an ablation effect.' : 'No LayerNorm: exactly linear.'}
        </>
      }
      csv={() => dlaCsv(lens)}
      legend={[
        { label: 'raises', colour: up },
        { label: 'lowers', colour: down },
      ]}
    >
      <BarChart width={460} height={height} data={data} layout="vertical" stackOffset="sign" margin={{ top: 8, right: 32, bottom: 20, left: 8 }}>
        <CartesianGrid stroke={theme.grid} horizontal={false} />
        <XAxis
          type="number"
          stroke={theme.muted}
          tick={{ fill: theme.foreground, fontSize: theme.fontSize }}
          // Round ticks print as integers (−5, 0, 5, 10), not with fmt's three significant digits (10.0 beside 5.00).
          tickFormatter={(v: number) => (Number.isInteger(v) ? String(v) : fmt(v))}
          label={{ value: `contribution to ${target}`, position: 'insideBottom', offset: -12, fill: theme.muted, fontSize: theme.fontSize }}
        />
        <YAxis type="category" dataKey="label" width={80} stroke={theme.muted} tick={{ fill: theme.foreground, fontSize: theme.fontSize }} interval={0} />
        <ReferenceLine x={0} stroke={theme.foreground} />
        <Tooltip formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} isAnimationActive={false} />
        <Bar dataKey="raises" name="raises" stackId="dla" fill={up} isAnimationActive={false} />
        <Bar dataKey="lowers" name="lowers" stackId="dla" fill={down} isAnimationActive={false} />
      </BarChart>
    </Panel>
  );
}
