import { useMemo, useState } from 'react';
import type { LoraDeltasAnalysis, ModelSummary } from '../../../../../shared/api';
import { analysisCsv } from '../../../../../shared/analyses';
import { standaloneSvg } from '../../../figure/exportFigure';
import { Heatmap } from '../../../figure/Heatmap';
import { fmt, heatmapLayout, heatmapSvgBody, type HeatmapSpec } from '../../../figure/heatmapFigure';
import { Panel } from '../../../figure/Panel';
import { ScreenLegend } from '../../../figure/ScreenLegend';
import { seriesColour, useFigureTheme } from '../../../figure/theme';
import { analyzeAs, useApi } from '../../../shell/api';
import { ErrorWithRetry } from '../../../shell/ErrorWithRetry';
import { exampleTexts, parseTextList } from '../../../shell/runInputs/textList';
import { HINT } from '../../../shell/styles';
import { useAsync } from '../../../shell/useAsync';
import { useWorkspace } from '../../../shell/workspace';
import { DELTA_STATS, deltaCosMatrix, deltaStatsCsv, deltaStatsRows, normRows, sampleMeans } from '../modelDeltasData';
import { BarsChart } from './BarsChart';

const COS_TITLE = '|cos| between per-token LoRA deltas';
/** Most tokens drawn as bars in the norms panel (the CSV always has every token). */
const MAX_NORM_BARS = 96;
/** The API's limits for lora-deltas (src/shared/analyses/loraDeltas.ts). */
const MAX_TEXTS = 256;

/** Models with at least one adapter that fits them. */
export const hasAdapter = (m: ModelSummary): boolean => !m.error && m.adapters.some((a) => !a.error);

type Request = Extract<Parameters<typeof analyzeAs>[1], { kind: 'lora-deltas' }>;

/**
 * The model + adapter mode: a Hugging Face model and a PEFT adapter for it, run over texts you give;
 * the per-token residual delta (adapted − base) at one layer, its |cos| matrix, PC1 share and the
 * natural steering vector (the paper's analysis, on your model).
 */
export function ModelDeltas() {
  const api = useApi();
  const { models, runId, setRunId } = useWorkspace();
  const candidates = (models.data ?? []).filter(hasAdapter);
  const model = candidates.find((m) => m.id === runId) ?? candidates[0] ?? null;
  const adapters = model?.adapters.filter((a) => !a.error) ?? [];
  const [adapterOf, setAdapterOf] = useState<Record<string, string>>({});
  const adapter = (model && adapters.find((a) => a.id === adapterOf[model.id])) || adapters[0] || null;
  const [layer, setLayer] = useState<Record<string, string>>({});
  const layerValue = model ? (layer[model.id] ?? '') : '';
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [committed, setCommitted] = useState<Record<string, string>>({});
  const defaults = model ? exampleTexts({ tokenizer: model.tokenizer !== false, labelled: false }) : '';
  const draft = model ? (drafts[model.id] ?? defaults) : '';
  const list = parseTextList(draft, { maxTexts: MAX_TEXTS, maxChars: 4000 });
  const shownList = parseTextList(model ? (committed[model.id] ?? defaults) : '');
  const request: Request | null =
    model && adapter && !shownList.error && shownList.texts.length
      ? { kind: 'lora-deltas', id: model.id, adapter: adapter.id, texts: shownList.texts, ...(layerValue !== '' ? { layer: Number(layerValue) } : {}) }
      : null;
  const result = useAsync(request ? JSON.stringify(request) : null, () => analyzeAs(api, request as Request));
  const pending = model !== null && draft !== (committed[model.id] ?? defaults);

  if (models.status === 'error') return <ErrorWithRetry onRetry={models.reload}>Could not list the workspace’s models: {models.error}</ErrorWithRetry>;
  if (!models.data) return <p className="view__loading">Looking for models…</p>;
  if (!model)
    return (
      <p className="view__empty" data-testid="lora-model-empty">
        No model with a PEFT adapter in this workspace. Put a Hugging Face model folder in the workspace with its adapter folder (adapter_config.json, adapter_model.safetensors) inside or beside it, or open both by path in Runs (File → Open Model with Adapter… in the desktop app).
      </p>
    );

  return (
    <>
      <form
        className="view__toolbar"
        style={{ flexWrap: 'wrap' }}
        onSubmit={(e) => {
          e.preventDefault();
          if (!list.error && list.texts.length) setCommitted((c) => ({ ...c, [model.id]: draft }));
          else result.reload();
        }}
      >
        <label className="picker">
          Model{' '}
          <select data-testid="lora-model" value={model.id} onChange={(e) => setRunId(e.target.value)}>
            {candidates.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id} ({m.architecture})
              </option>
            ))}
          </select>
        </label>
        <label className="picker">
          Adapter{' '}
          <select data-testid="lora-adapter" value={adapter?.id ?? ''} onChange={(e) => setAdapterOf((a) => ({ ...a, [model.id]: e.target.value }))}>
            {adapters.map((a) => (
              <option key={a.id} value={a.id}>
                {a.id} (r {a.r}, layers {a.layers?.join(', ')})
              </option>
            ))}
          </select>
        </label>
        <label className="picker">
          Layer{' '}
          <select data-testid="lora-layer" value={layerValue} onChange={(e) => setLayer((l) => ({ ...l, [model.id]: e.target.value }))}>
            <option value="">the adapter’s last ({adapter?.layers?.length ? adapter.layers[adapter.layers.length - 1] : '—'})</option>
            {Array.from({ length: model.nLayers ?? 0 }, (_, l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className={pending ? 'primary' : undefined} disabled={Boolean(list.error) || !list.texts.length || result.status === 'loading'} data-testid="lora-model-run">
          {result.status === 'loading' ? 'Running…' : 'Run'}
        </button>
        {pending && !list.error && <span style={HINT}>texts changed: press Run</span>}
        <label style={{ display: 'flex', flexDirection: 'column', gap: '0.25rem', flex: '1 1 100%', ...HINT }}>
          Texts, one per line (every token of every text counts; a leading space is a token too)
          <textarea data-testid="lora-model-texts" rows={5} spellCheck={false} value={draft} onChange={(e) => setDrafts((d) => ({ ...d, [model.id]: e.target.value }))} style={{ fontFamily: 'ui-monospace, monospace', width: '100%', resize: 'vertical' }} />
        </label>
        {list.error && (
          <span className="view__error" role="alert" data-testid="lora-model-texts-error">
            {list.error}
          </span>
        )}
      </form>
      {result.status === 'error' && (
        <ErrorWithRetry onRetry={result.reload} testId="lora-model-error">
          The LoRA deltas failed: {result.error}
        </ErrorWithRetry>
      )}
      {!result.data && result.status === 'loading' && <p className="view__loading">Running {model.id} with and without {adapter?.id}…</p>}
      {result.data && <DeltaPanels r={result.data} stale={result.status === 'loading'} />}
    </>
  );
}

function DeltaPanels({ r, stale }: { r: LoraDeltasAnalysis; stale: boolean }) {
  const theme = useFigureTheme();
  const matrix = useMemo(() => deltaCosMatrix(r), [r]);
  const spec: HeatmapSpec = useMemo(
    () => ({ values: matrix.values, rowLabels: matrix.rowLabels, colLabels: matrix.colLabels, scale: 'sequential', domain: [0, 1], valueLabel: '|cos|', cell: matrix.values.length > 24 ? Math.max(11, theme.fontSize) : undefined }),
    [matrix, theme.fontSize],
  );
  const L = useMemo(() => heatmapLayout(spec, theme), [spec, theme]);
  const means = useMemo(() => sampleMeans(r), [r]);
  const [hover, setHover] = useState<{ row: number; col: number } | null>(null);
  const statsLegend = DELTA_STATS.map((s, i) => ({ label: s.label, colour: seriesColour(theme, i) }));
  const norms = useMemo(() => normRows(r), [r]);
  const s = r.summary;
  const subject = `${r.id} + ${r.adapter ?? 'adapter'}`;
  return (
    <>
      <p className="panel__caption" data-testid="lora-model-summary" style={{ marginTop: 0, opacity: stale ? 0.5 : 1 }}>
        {subject}: {s.nTokens} tokens of {r.texts.length} text{r.texts.length > 1 ? 's' : ''}, deltas resid(adapted) − resid(base) at <code>{r.hook}</code> (the adapter adapts layer{r.adapterLayers.length > 1 ? 's' : ''} {r.adapterLayers.join(', ')}). Natural steering vector = PC1 of the deltas, sign-aligned with their mean, scaled to their mean norm:{' '}
        <strong data-testid="lora-natural-norm">‖v‖ = {fmt(r.naturalVectorNorm)}</strong>, |cos(PC1, mean delta)| = {fmt(s.cosPc1Mean)}.
      </p>
      <div className="view__grid" style={{ opacity: stale ? 0.5 : 1 }}>
        <div style={{ width: Math.max(L.totalWidth + 30, 420) }}>
          <Panel
            title={COS_TITLE}
            testId="lora-model-cos"
            caption={
              <>
                |cos| between the deltas of {matrix.values.length === r.tokens.length ? 'every token' : `${matrix.values.length} of the ${r.tokens.length} tokens, spread over every text and position`} (rows: text, token, position). One shared direction ⇒ |cos| near 1 everywhere. Mean off-diagonal |cos| here: within a text {fmt(means.within)}, across texts {fmt(means.across)}; over every token {fmt(s.meanAbsCos)}.
              </>
            }
            fileName={`lora-deltas-cos-${r.id}`}
            svg={() => standaloneSvg(heatmapSvgBody(spec, theme), L.totalWidth, L.totalHeight, theme, { title: `${COS_TITLE}: ${subject}` })}
            csv={() => analysisCsv(r, 'cos')}
          >
            <Heatmap {...spec} onHover={setHover} testId="lora-model-cos-canvas" />
            <p className="panel__caption" style={{ margin: '0.25rem 0 0', minHeight: '1.3em' }}>
              {hover ? `${matrix.rowLabels[hover.row]} × ${matrix.rowLabels[hover.col]}: |cos| = ${fmt(matrix.values[hover.row][hover.col])}` : 'Hover a cell for its two tokens.'}
            </p>
          </Panel>
        </div>
        <div style={{ width: 470 }}>
          <Panel
            title="One direction?"
            testId="lora-model-stats"
            caption={
              <>
                Over every token: the share of the deltas’ second moment along PC1 (uncentred: the “one direction” test), of their variance around the mean (centred), and their mean pairwise |cos|. Near 1 ⇒ the adapter adds one vector, whatever the text. Mean ‖Δ‖ {fmt(s.meanNorm)}. The vector itself: <code>oocr analyze lora-deltas … --format csv --table natural</code>.
              </>
            }
            fileName={`lora-deltas-pc1-${r.id}`}
            legend={statsLegend}
            csv={() => deltaStatsCsv(r)}
          >
            <BarsChart rows={deltaStatsRows(r)} categoryKey="group" series={DELTA_STATS} yDomain={[0, 1]} yTicks={[0, 0.25, 0.5, 0.75, 1]} yLabel="share / |cos|" width={440} height={260} />
            <ScreenLegend entries={statsLegend} />
          </Panel>
        </div>
        <div style={{ width: 470 }}>
          <Panel title="Delta norm per token" testId="lora-model-norms" caption={<>‖resid(adapted) − resid(base)‖ at each token{norms.length > 5 ? ', numbered in order (the |cos| matrix’s columns when it shows every token; the CSV names them)' : ''}{norms.length > MAX_NORM_BARS ? ` (the first ${MAX_NORM_BARS} drawn; the CSV has all ${norms.length})` : ''}.</>} fileName={`lora-deltas-norms-${r.id}`} csv={() => analysisCsv(r, 'norms')}>
            <BarsChart rows={norms.slice(0, MAX_NORM_BARS)} categoryKey={norms.length <= 5 ? 'label' : 'n'} series={[{ key: 'norm', label: '‖Δ‖' }]} yDomain={[0, Math.max(1e-9, ...norms.map((n) => n.norm)) * 1.1]} yLabel="‖Δ‖" width={440} height={260} values={norms.length <= 12} />
          </Panel>
        </div>
      </div>
    </>
  );
}
