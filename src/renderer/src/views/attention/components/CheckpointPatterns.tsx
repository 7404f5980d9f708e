import { useMemo } from 'react';
import type { AttentionAnalysis } from '../../../../../shared/api';
import { standaloneSvg } from '../../../figure/exportFigure';
import { Heatmap } from '../../../figure/Heatmap';
import { Panel } from '../../../figure/Panel';
import type { AsyncState } from '../../../shell/useAsync';
import { attentionCsv, gridColumns, gridSvg, patternSpec, type AttentionScale, type HeadPattern } from '../attentionData';
import { HINT } from '../../../shell/styles';
import { ErrorWithRetry } from '../../../shell/ErrorWithRetry';

export interface CheckpointPatternsProps {
  runId: string;
  /** The step asked for (the data may still be an earlier step's while the new one loads). */
  step: number;
  state: AsyncState<AttentionAnalysis> & { reload: () => void };
  patterns: HeadPattern[];
  scale: AttentionScale;
  /** The panel's title (default: the checkpoint's step). */
  title?: string;
}

/** One checkpoint's attention: a grid of query × key heatmaps (a column per layer, a row per head) in one Panel. */
export function CheckpointPatterns({ runId, step, state, patterns, scale, title: fixedTitle }: CheckpointPatternsProps) {
  const data = state.data;
  const tokens = useMemo(() => data?.tokens ?? [], [data]);
  const columns = gridColumns(patterns);
  const items = useMemo(() => patterns.map((p) => ({ label: p.label, spec: patternSpec(p, tokens, scale) })), [patterns, tokens, scale]);
  const stale = state.status === 'loading' || (data !== undefined && (data.step !== step || data.id !== runId));
  const title = fixedTitle ?? (data ? `Attention, step ${data.step}` : `Attention, step ${step}`);

  return (
    <div data-testid="attention-checkpoint" data-step={data?.step ?? step} style={{ flex: '1 1 0', minWidth: 'min-content' }}>
      <Panel
        title={title}
        fileName={`attention-${runId}-step-${data?.step ?? step}`}
        caption={
          data ? (
            <>
              {data.id}
              {data.adapter ? ` + ${data.adapter}` : ''} · prompt <code data-testid="attention-tokens">{data.tokens.join(' ')}</code>. Rows: query (destination) position; columns: key (source). {scale.note}
            </>
          ) : undefined
        }
        csv={data ? () => attentionCsv(tokens, patterns) : undefined}
        svg={(t) => {
          if (!data || !items.length) throw new Error('no attention patterns to export yet');
          const g = gridSvg(items, columns, t);
          const what = fixedTitle ?? `Attention of ${data.id}${data.adapter ? ` + ${data.adapter}` : ''}, step ${data.step}`;
          return standaloneSvg(g.body, g.width, g.height, t, { title: `${what} (rows: query, columns: key)` });
        }}
      >
        {state.status === 'error' && (
          <ErrorWithRetry onRetry={state.reload}>
            Attention at step {step} failed: {state.error}
          </ErrorWithRetry>
        )}
        {!data && state.status === 'loading' && <p className="view__loading">Computing attention at step {step}…</p>}
        {data && stale && state.status === 'loading' && <p style={HINT}>Updating ({runId}, step {step})…</p>}
        {data && !patterns.length && <p className="view__empty">No heads match the layer/head filter.</p>}
        {data && (
          <div style={{ display: 'grid', gridTemplateColumns: `repeat(${columns}, max-content)`, gap: '0.5rem 1rem', opacity: stale ? 0.5 : 1 }}>
            {items.map((it) => (
              <figure key={it.label} style={{ margin: 0 }} data-testid="attention-head" data-head={it.label}>
                <figcaption style={{ fontWeight: 600, fontSize: '0.9rem' }}>{it.label}</figcaption>
                <Heatmap {...it.spec} />
              </figure>
            ))}
          </div>
        )}
      </Panel>
    </div>
  );
}
