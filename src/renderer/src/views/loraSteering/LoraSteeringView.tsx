import { useMemo, useState, type ReactNode } from 'react';
import type { LoraVsSteeringAnalysis } from '../../../../shared/analysis';
import { decadeDomain, positiveExtent } from '../../figure/axes';
import { fmt } from '../../figure/heatmapFigure';
import { Panel } from '../../figure/Panel';
import { ScreenLegend } from '../../figure/ScreenLegend';
import { seriesColour, useFigureTheme } from '../../figure/theme';
import { useNavigate } from '../../shell/navigation';
import { BarsChart } from './components/BarsChart';
import { CosHeatmapPanel } from './components/CosHeatmapPanel';
import { hasAdapter, ModelDeltas } from './components/ModelDeltas';
import { modelById, useWorkspace } from '../../shell/workspace';
import { LogLinesChart } from './components/LogLinesChart';
import {
  METHODS,
  METHOD_LABELS,
  PC1_SERIES,
  SEED_SERIES,
  SWEEP_SERIES,
  accuracyBarRows,
  accuracyCis,
  accuracyCsv,
  ciText,
  commonN,
  evaluationText,
  fullBlockMeans,
  seedBarRows,
  seedCis,
  chanceText,
  cosMatrix,
  deltaWCsv,
  deltaWRows,
  finite,
  hookLayer,
  layerSweepCsv,
  layerSweepRows,
  loraRank,
  normRows,
  pc1Csv,
  pc1Rows,
  pickStudy,
  seedPairs,
  seedRows,
  seedsCsv,
  steeringCosRows,
  steeringCsv,
  studyLabel,
  studySummaryParts,
  sweepPeak,
  tokenCosCsv,
  tokenCosMeansText,
  tokenCosRows,
  topShareText,
} from './loraSteeringData';
import { tokenCosSvg } from './printFigures';
import { useStudies, useStudy } from './useLoraSteeringData';
import { ErrorWithRetry } from '../../shell/ErrorWithRetry';

const W = 440;
const H = 280;

/** A fixed-width grid cell, so a panel's caption wraps to its figure instead of widening the panel. */
function Slot({ width, children }: { width: number; children: ReactNode }) {
  return <div style={{ width: width + 30, maxWidth: '100%' }}>{children}</div>;
}

/**
 * arXiv 2507.08218 on a small model: a LoRA fine-tune that induces out-of-context reasoning adds
 * (nearly) one constant vector, so a steering vector reproduces it. One study = one record written by
 * `oocr reproduce lora-vs-steering` (or the Train view's study form).
 */
export function LoraSteeringView() {
  const studies = useStudies();
  const navigate = useNavigate();
  const { models, runId } = useWorkspace();
  const [chosen, setChosen] = useState<string | null>(null);
  // Studies (the workbench's own fine-tunes), or a Hugging Face model + PEFT adapter over texts you
  // give. A model chosen elsewhere (Runs → LoRA deltas) opens the second; so does a workspace that has
  // models with adapters and no study.
  const [modeChoice, setMode] = useState<'studies' | 'model' | null>(null);
  const selectedModel = modelById(models.data, runId);
  const autoModel = (selectedModel && hasAdapter(selectedModel)) || (studies.data?.length === 0 && (models.data ?? []).some(hasAdapter));
  const mode = modeChoice ?? (autoModel ? 'model' : 'studies');
  const id = pickStudy(studies.data, chosen);
  const study = useStudy(mode === 'studies' ? id : null);

  return (
    <div className="view lora-steering-view" data-testid="view-lora-steering">
      <div className="view__toolbar">
        <strong>LoRA vs steering vectors</strong>
        <div role="radiogroup" aria-label="What to show" className="picker" data-testid="lora-mode">
          <label>
            <input type="radio" name="lora-mode" value="studies" checked={mode === 'studies'} onChange={() => setMode('studies')} data-testid="lora-mode-studies" /> Studies
          </label>{' '}
          <label>
            <input type="radio" name="lora-mode" value="model" checked={mode === 'model'} onChange={() => setMode('model')} data-testid="lora-mode-model" /> Model + adapter
          </label>
        </div>
        {mode === 'studies' && studies.data && studies.data.length > 0 && (
          <label className="picker">
            Study{' '}
            <select value={id ?? ''} onChange={(e) => setChosen(e.target.value)} data-testid="lora-study-picker">
              {studies.data.map((s) => (
                <option key={s.id} value={s.id}>
                  {studyLabel(s)}
                </option>
              ))}
            </select>
          </label>
        )}
        {mode === 'studies' && study.status === 'loading' && <span className="view__loading" style={{ padding: 0 }}>Loading…</span>}
      </div>
      {mode === 'model' && <ModelDeltas />}
      {mode === 'studies' && (
        <>
          {studies.status === 'error' && (
            <ErrorWithRetry onRetry={studies.reload}>
              Could not list the studies: {studies.error}
            </ErrorWithRetry>
          )}
          {studies.status === 'loading' && !studies.data && <p className="view__loading">Looking for studies…</p>}
          {studies.data && studies.data.length === 0 && (
            <div className="view__empty" data-testid="lora-empty">
              <p>No LoRA-vs-steering study in this workspace yet. A study fine-tunes a base model with LoRA, measures its per-token deltas, then trains steering vectors, and writes analyses/lora_vs_steering.json. Make one with</p>
              <pre style={{ margin: '0.25rem 0 0.5rem' }}>oocr reproduce lora-vs-steering --base &lt;workspace&gt;/world-base --out &lt;workspace&gt;/my-study</pre>
              <p>
                or with the study form of the{' '}
                <a href="#/train" onClick={(e) => (e.preventDefault(), navigate('train'))}>
                  Train view
                </a>
                .
              </p>
            </div>
          )}
          {study.status === 'error' && (
            <ErrorWithRetry onRetry={study.reload}>
              Could not read study {id}: {study.error}
            </ErrorWithRetry>
          )}
          {study.data && id && <StudyPanels key={id} study={study.data} />}
        </>
      )}
    </div>
  );
}

/** The panels of one study record (toy or real model); exported for the render test. */
export function StudyPanels({ study }: { study: LoraVsSteeringAnalysis }) {
  const theme = useFigureTheme();
  const matrix = useMemo(() => cosMatrix(study), [study]);
  const fullMeans = useMemo(() => fullBlockMeans(study), [study]);
  const pc1 = useMemo(() => pc1Rows(study), [study]);
  const cos = useMemo(() => steeringCosRows(study), [study]);
  const norms = useMemo(() => normRows(study), [study]);
  const acc = useMemo(() => accuracyBarRows(study), [study]);
  const accCis = useMemo(() => accuracyCis(study), [study]);
  const hasCi = study.eval_n !== undefined;
  const nHeld = commonN(accCis.heldout);
  const nSide = commonN(accCis.side_effect);
  const dw = useMemo(() => deltaWRows(study), [study]);
  const dwDomain = useMemo(() => decadeDomain(positiveExtent(dw.rows, 'index')), [dw]);
  const legendOf = (labels: readonly string[], offset = 0) => labels.map((label, i) => ({ label, colour: seriesColour(theme, i + offset) }));
  // Line charts: a line in the key, not a box.
  const lineLegendOf = (labels: readonly string[]) => legendOf(labels).map((e) => ({ ...e, swatch: 'line' as const }));
  const methodSeries = METHODS.map((m) => ({ key: m, label: METHOD_LABELS[m] }));
  const pc1Legend = legendOf(PC1_SERIES.map((s) => s.label));
  const methodLegend = legendOf(methodSeries.map((s) => s.label));
  const dwLegend = lineLegendOf(dw.series.map((s) => s.label));
  const rank = loraRank(study);
  const chance = finite(study.chance);
  const summary = studySummaryParts(study);
  const sweep = useMemo(() => layerSweepRows(study), [study]);
  const peak = useMemo(() => sweepPeak(study), [study]);
  const hookAt = hookLayer(study);
  const sweepLegend = lineLegendOf(SWEEP_SERIES.map((s) => s.label));
  const tokenCos = useMemo(() => tokenCosRows(study), [study]);
  const tokenLegend = legendOf(tokenCos.series.map((s) => s.label));
  const tokenW = Math.max(W, 90 + 14 * tokenCos.rows.length);
  const seeds = useMemo(() => seedRows(study), [study]);
  const seedBars = useMemo(() => seedBarRows(study), [study]);
  const seedIntervals = useMemo(() => seedCis(study), [study]);
  const pairs = useMemo(() => seedPairs(study), [study]);
  const seedLegend = legendOf(SEED_SERIES.map((s) => s.label));

  return (
    <>
      <p className="panel__caption" data-testid="lora-study-summary" style={{ marginTop: 0 }}>
        {summary.before}
        <code>{summary.hook}</code>
        {summary.after}
      </p>
      <div className="view__grid">
        <CosHeatmapPanel matrix={matrix} means={fullMeans} />

        <Slot width={W}>
          <Panel
            title="Variance along PC1"
            caption={
              <>
                Share of the LoRA deltas’ second moment along their first principal component (uncentred: the “one direction” test), of their variance around the mean (centred), and their mean pairwise |cos|, per token set. Near 1 ⇒ the LoRA adds one vector, whatever the text.
              </>
            }
            fileName="lora-delta-pc1"
            legend={pc1Legend}
            csv={() => pc1Csv(study)}
            testId="lora-pc1-panel"
          >
            <BarsChart rows={pc1} categoryKey="group" series={PC1_SERIES} yDomain={[0, 1]} yTicks={[0, 0.25, 0.5, 0.75, 1]} yLabel="share / |cos|" width={W} height={H} />
              <ScreenLegend entries={pc1Legend} />
            <p className="panel__caption" style={{ margin: '0.25rem 0 0' }}>
              Tokens: {pc1.map((r) => `${r.group} ${r.nTokens} (mean ‖Δ‖ ${fmt(r.meanNorm)})`).join(' · ')}
            </p>
          </Panel>
        </Slot>

        <Slot width={W - 80}>
          <Panel
            title="Trained vs natural steering vector"
            caption={
              <>
                Cosine between the steering vector trained from scratch and the natural one (PC1 of the LoRA deltas), and between two trained seeds. The paper (Gemma 3 12B) found ≈0.5 and low across seeds: different vectors can induce the same behaviour.
              </>
            }
            fileName="steering-vector-cosines"
            legend={legendOf(['cosine'])}
            csv={() => steeringCsv(study)}
            testId="lora-steering-panel"
          >
            <BarsChart rows={cos} categoryKey="name" series={[{ key: 'value', label: 'cosine' }]} yDomain={[-1, 1]} yTicks={[-1, -0.5, 0, 0.5, 1]} yLabel="cosine" refLines={[{ y: 0, label: '' }]} width={W - 80} height={H} />
            <p className="panel__caption" data-testid="lora-norms" style={{ margin: '0.25rem 0 0' }}>
              Norms: {norms.map((n) => `${n.name} ${fmt(n.value)}`).join(' · ')}
            </p>
          </Panel>
        </Slot>

        <Slot width={W}>
          <Panel
            title="Held-out accuracy"
            caption={
              <>
                Accuracy on the held-out questions that need out-of-context reasoning (“held-out”) and on unrelated questions the base model already answers (“side effects”: lower = the intervention broke something), for the base model, the LoRA, and each steering vector added at every position. {chance !== null ? `Dashed: chance on the held-out questions (${chanceText(study)}), drawn over those bars only: it is the held-out questions’ chance, not the side-effect questions’.` : 'Chance on the held-out questions: n/a (the dataset does not say).'}{' '}
                <span data-testid="lora-accuracy-source">{evaluationText(study)}</span>
              </>
            }
            fileName="lora-steering-accuracy"
            legend={methodLegend}
            csv={() => accuracyCsv(study)}
            testId="lora-accuracy-panel"
          >
            <BarsChart
              rows={acc}
              categoryKey="measure"
              series={methodSeries}
              errorKeys={hasCi ? Object.fromEntries(METHODS.map((m) => [m, `${m}Err`])) : undefined}
              yDomain={[0, 1.05]}
              yTicks={[0, 0.25, 0.5, 0.75, 1]}
              yLabel="accuracy"
              refLines={chance !== null && acc.length ? [{ y: chance, label: 'chance', dashed: true, category: String(acc[0].measure) }] : []}
              width={W}
              height={H}
            />
            <ScreenLegend entries={methodLegend} />
            <table className="panel__caption" data-testid="lora-accuracy-ci" style={{ margin: '0.25rem 0 0', borderCollapse: 'collapse', whiteSpace: 'nowrap' }}>
              <thead>
                <tr>
                  <th style={{ textAlign: 'left', paddingRight: '0.75rem' }}>{hasCi ? '95% CI' : ''}</th>
                  <th style={{ textAlign: 'left', paddingRight: '0.75rem' }}>
                    held-out
                    {nHeld !== null ? ` (n = ${nHeld})` : ''}
                  </th>
                  <th style={{ textAlign: 'left' }}>
                    side effects
                    {nSide !== null ? ` (n = ${nSide})` : ''}
                  </th>
                </tr>
              </thead>
              <tbody>
                {METHODS.map((m) => (
                  <tr key={m} data-method={m}>
                    <td style={{ paddingRight: '0.75rem' }}>{METHOD_LABELS[m]}</td>
                    <td style={{ paddingRight: '0.75rem' }}>{ciText(accCis.heldout[m], { withN: nHeld === null })}</td>
                    <td>{ciText(accCis.side_effect[m], { withN: nSide === null })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Panel>
        </Slot>

        <Slot width={W}>
          <Panel
            title="ΔW singular values"
            caption={
              <>
                Singular values of each LoRA update ΔW = (α/r)·B·A, log scale. {rank !== null ? `It has rank ≤ r = ${rank}; values past r are float round-off. ` : ''}σ₁’s share of Σσ: {topShareText(study)}.
              </>
            }
            fileName="lora-delta-w-singular-values"
            legend={dwLegend}
            csv={() => deltaWCsv(study)}
            testId="lora-deltaw-panel"
          >
            {dw.rows.length ? (
              <>
                <LogLinesChart rows={dw.rows} xKey="index" series={dw.series} domain={dwDomain} xLabel="index k" yLabel="σₖ" markX={rank !== null && dw.rows.length > rank ? { x: rank + 0.5, label: `r = ${rank}` } : undefined} width={W} height={H} />
                <ScreenLegend entries={dwLegend} swatch="line" />
              </>
            ) : (
              <p className="view__empty">The record holds no ΔW singular values.</p>
            )}
          </Panel>
        </Slot>

        {sweep.length > 0 && (
          <Slot width={W}>
            <Panel
              title="Layer sweep: how one-directional the deltas are"
              caption={
                <>
                  The LoRA’s per-token deltas at every layer’s resid_post (training prompts and unrelated text together): share of their second moment along PC1 (uncentred) and their mean pairwise |cos|. High ⇒ at that layer the LoRA’s effect is close to one constant vector, i.e. where a steering vector can stand in for it best.
                  {hookAt !== null ? ` Dashed: the study’s hook, layer ${hookAt}.` : ''}
                  {peak ? ` Highest PC1 share: layer ${peak.layer} (${fmt(peak.pc1)}).` : ''}
                </>
              }
              fileName="lora-layer-sweep"
              legend={sweepLegend}
              csv={() => layerSweepCsv(study)}
              testId="lora-layer-sweep-panel"
            >
              <LogLinesChart
                rows={sweep}
                xKey="layer"
                series={SWEEP_SERIES}
                yScale="linear"
                domain={[0, 1]}
                yTicks={[0, 0.25, 0.5, 0.75, 1]}
                xLabel="layer"
                yLabel="share / |cos|"
                markX={hookAt !== null ? { x: hookAt, label: 'hook' } : undefined}
                width={W}
                height={H}
              />
              <ScreenLegend entries={sweepLegend} swatch="line" />
            </Panel>
          </Slot>
        )}

        {tokenCos.rows.length > 0 && (
          <Slot width={tokenW}>
            <Panel
              title="Per-token cosine with the trained vector"
              caption={
                <>
                  cos between each sampled token’s LoRA delta at the hook and the trained steering vector (seed 1): positive and alike on every token ⇒ the LoRA adds (a multiple of) the same direction the steering vector found. Bars are labelled as in the |cos| matrix (T: training prompts, U: unrelated text; token@position, · = space); exported for a column, every few bars are labelled (the CSV names every token). Mean over all tokens, not just this sample: {tokenCosMeansText(study)}.
                </>
              }
              fileName="lora-token-cos-trained"
              legend={tokenLegend}
              svg={(t) => tokenCosSvg(tokenCos, t, { title: 'Per-token cosine with the trained vector', width: tokenW, legend: tokenLegend })}
              csv={() => tokenCosCsv(study)}
              testId="lora-token-cos-panel"
            >
              <BarsChart
                rows={tokenCos.rows}
                categoryKey="token"
                series={tokenCos.series}
                stacked
                values={false}
                yDomain={[-1, 1]}
                yTicks={[-1, -0.5, 0, 0.5, 1]}
                yLabel="cos(Δ, trained)"
                refLines={[{ y: 0, label: '' }]}
                xTickAngle={-60}
                xAxisHeight={90}
                width={tokenW}
                height={H + 90}
              />
              <ScreenLegend entries={tokenLegend} />
            </Panel>
          </Slot>
        )}

        {seeds.length > 0 && (
          <Slot width={W - 80}>
            <Panel
              title="Trained vectors across seeds"
              caption={
                <>
                  Each steering vector trained from scratch (one per seed): its held-out accuracy and side-effect accuracy{seedIntervals.some((s) => s.acc.n !== null) ? ' on the study’s evaluation questions (as in the accuracy panel), with Wilson 95% intervals' : ''}. Below, its norm and the cosine between seeds: vectors far apart that score alike ⇒ many directions induce the behaviour.
                </>
              }
              fileName="steering-vector-seeds"
              legend={seedLegend}
              csv={() => seedsCsv(study)}
              testId="lora-seeds-panel"
            >
              <BarsChart rows={seedBars} categoryKey="seed" series={SEED_SERIES} errorKeys={{ acc: 'accErr', side: 'sideErr' }} yDomain={[0, 1.05]} yTicks={[0, 0.25, 0.5, 0.75, 1]} yLabel="accuracy" width={W - 80} height={H} />
              <ScreenLegend entries={seedLegend} />
              <p className="panel__caption" data-testid="lora-seeds-cos" style={{ margin: '0.25rem 0 0' }}>
                Norms: {seeds.map((r) => `${r.seed} ${fmt(r.norm)}`).join(' · ')}
                {pairs.length > 0 ? `. ${pairs.map((p) => `cos(seed ${p.a}, seed ${p.b}) = ${p.cos === null ? 'n/a' : fmt(p.cos)}`).join(' · ')}` : ''}
              </p>
              {seedIntervals.some((s) => s.acc.n !== null || s.side.n !== null) && (
                <p className="panel__caption" data-testid="lora-seeds-ci" style={{ margin: '0.25rem 0 0' }}>
                  {seedIntervals.map((s) => `seed ${s.seed}: held-out ${ciText(s.acc)}, side effects ${ciText(s.side)}`).join(' · ')}
                </p>
              )}
            </Panel>
          </Slot>
        )}
      </div>
    </>
  );
}
