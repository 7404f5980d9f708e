import { useMemo, useState } from 'react';
import { Heatmap } from '../../../figure/Heatmap';
import { fmt, heatmapLayout, type HeatmapSpec } from '../../../figure/heatmapFigure';
import { Panel } from '../../../figure/Panel';
import { useFigureTheme } from '../../../figure/theme';
import { blockMeansText, cosCsv, filterCosMatrix, positionOptions, type CosMatrix, type FullBlockMeans } from '../loraSteeringData';
import { cosHeatmapSpec, cosHeatmapSvg, cosSplitLines } from '../printFigures';

const TITLE = '|cos| between per-token LoRA deltas';

/**
 * Panel (a): pairwise |cos| of the LoRA's per-token output deltas, training tokens then unrelated ones,
 * for the positions picked; the caption's means are over every token delta (`means`), not the sample.
 */
export function CosHeatmapPanel({ matrix: sample, means }: { matrix: CosMatrix; means: FullBlockMeans | null }) {
  const theme = useFigureTheme();
  const options = useMemo(() => positionOptions(sample), [sample]);
  // Positions switched off (so a newly shown study starts with all of its positions).
  const [hidden, setHidden] = useState<ReadonlySet<number>>(new Set());
  const [hover, setHover] = useState<{ row: number; col: number } | null>(null);
  const keep = useMemo(() => new Set(options.map((o) => o.position).filter((p) => !hidden.has(p))), [options, hidden]);
  const matrix = useMemo(() => filterCosMatrix(sample, keep), [sample, keep]);
  const toggle = (p: number, on: boolean) => {
    setHover(null);
    setHidden((h) => {
      const next = new Set(h);
      if (on) next.delete(p);
      else next.add(p);
      return next;
    });
  };
  const spec: HeatmapSpec = useMemo(() => cosHeatmapSpec(matrix, theme), [matrix, theme]);
  const L = useMemo(() => heatmapLayout(spec, theme), [spec, theme]);
  const lines = useMemo(() => cosSplitLines(spec, matrix.split, theme), [spec, matrix.split, theme]);
  const n = matrix.values.length;
  const nSample = sample.values.length;
  const nUnrel = sample.values.length - sample.split;
  const shownPositions = options.filter((o) => keep.has(o.position)).map((o) => `${o.position}${o.readout ? ' (read-out)' : ''}`);
  return (
    <div style={{ width: Math.max(L.totalWidth + 30, 420) }}>
      <Panel
        title={TITLE}
        testId="lora-cos-heatmap"
        caption={
          <>
            Each cell is |cos| between two tokens’ LoRA deltas (LoRA-model minus base-model activation at the hook), for a display sample of {nSample} tokens (the picker below lists their positions). T1–T{sample.split}: tokens of training prompts; U1–U{nUnrel}: tokens of unrelated text (rows name the token and its position); the white lines mark the split (exported for a column, rows are named by their ids like the columns, every few labelled; the CSV names every token). One shared direction ⇒ |cos| near 1 everywhere, on unrelated text too.{' '}
            <span data-testid="lora-cos-means">
              {means
                ? `Mean off-diagonal |cos| over all ${means.nTrain + means.nUnrelated} tokens (${means.nTrain} training, ${means.nUnrelated} unrelated), not just this sample: ${blockMeansText(means)}.`
                : 'The record holds no means over all tokens.'}
            </span>
          </>
        }
        fileName="lora-delta-abs-cos"
        svg={(t) => cosHeatmapSvg(matrix, t, TITLE)}
        csv={() => cosCsv(matrix)}
      >
        {options.length > 1 && (
          <div className="picker" role="group" aria-label="Positions shown" data-testid="lora-cos-positions" style={{ display: 'flex', flexWrap: 'wrap', gap: '0.15rem 0.6rem', margin: '0 0 0.35rem' }}>
            <span>Positions:</span>
            {options.map((o) => (
              <label key={o.position} title={`${o.count} sampled token${o.count === 1 ? '' : 's'} at position ${o.position}`}>
                <input type="checkbox" checked={keep.has(o.position)} disabled={keep.size === 1 && keep.has(o.position)} onChange={(e) => toggle(o.position, e.target.checked)} data-testid={`lora-cos-pos-${o.position}`} data-readout={o.readout ? 'true' : undefined} /> {o.position}
                {o.readout ? ' (read-out)' : ''}
              </label>
            ))}
            {hidden.size > 0 && (
              <button type="button" onClick={() => setHidden(new Set())} data-testid="lora-cos-pos-all">
                All
              </button>
            )}
          </div>
        )}
        <p className="panel__caption" data-testid="lora-cos-shown" style={{ margin: '0 0 0.25rem' }}>
          {n === nSample ? `All ${nSample} sampled tokens` : `${n} of ${nSample} sampled tokens`}
          {shownPositions.length ? `, position${shownPositions.length > 1 ? 's' : ''} ${shownPositions.join(', ')}` : ''}.
        </p>
        <div style={{ position: 'relative', width: L.totalWidth, height: L.totalHeight }}>
          <Heatmap {...spec} onHover={setHover} />
          {lines && (
            <>
              <div aria-hidden style={{ position: 'absolute', left: lines.x - 1, top: L.y0, width: 2, height: L.height, background: '#fff', pointerEvents: 'none' }} />
              <div aria-hidden style={{ position: 'absolute', left: L.x0, top: lines.y - 1, width: L.width, height: 2, background: '#fff', pointerEvents: 'none' }} />
            </>
          )}
        </div>
        <p className="panel__caption" data-testid="lora-cos-readout" style={{ margin: '0.25rem 0 0', minHeight: '1.3em' }}>
          {hover
            ? `${matrix.colLabels[hover.row]} ${matrix.fullLabels[hover.row]} × ${matrix.colLabels[hover.col]} ${matrix.fullLabels[hover.col]}: |cos| = ${fmt(matrix.values[hover.row][hover.col])}`
            : 'Hover a cell for its two tokens.'}
        </p>
      </Panel>
    </div>
  );
}
