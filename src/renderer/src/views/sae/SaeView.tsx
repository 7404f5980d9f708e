import { useEffect, useMemo, useState } from 'react';
import type { SaeFeaturesResult, SaeInterventionResult } from '../../../../shared/api';
import { CurvePanel } from '../../figure/StepChart';
import { ErrorWithRetry } from '../../shell/ErrorWithRetry';
import { errorMessage } from '../../shell/errors';
import { useApi } from '../../shell/api';
import { useWorkspace } from '../../shell/workspace';
import { CosinePanel, DensityPanel, ExamplesPanel, FeatureBarsPanel, HistogramPanel, InterventionPanel, LogitPanel } from './components/SaePanels';
import { TrainSaeForm } from './components/TrainSaeForm';
import { alphaOf, CURVE_LABELS, featureDetail, featureRows, featureRowsCsv, fmtAlpha, saeCurve, saeLabel, saeMetricParts, type FeatureSort } from './saeData';
import { useSae, useSaeFeatures, useSaeJobs, useSaes, useSaeStudies } from './useSaeData';
import './sae.css';

const LIST_LIMIT = 40;

/**
 * SAE: sparse autoencoders of the workspace (WORKSPACE/saes) — train one as a job, its training
 * curves and feature density, a feature list sorted by density, by MI with a label or by |cos| with a
 * study's steering vector, and per feature its top-activating prompts, activation histogram, logit
 * effects, cosines with the study's vectors and what ablating or steering with it does to held-out
 * accuracy.
 */
export function SaeView() {
  const api = useApi();
  const saes = useSaes();
  const studies = useSaeStudies();
  const { runs } = useWorkspace();
  const { jobs, start, cancel } = useSaeJobs();
  const [chosen, setChosen] = useState<string | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [showForm, setShowForm] = useState(false);
  const [studyChoice, setStudyChoice] = useState<string | null | undefined>(undefined);
  const [sort, setSort] = useState<FeatureSort>('density');
  const [label, setLabel] = useState<string>('');
  const [feature, setFeature] = useState<number | null>(null);
  const [k, setK] = useState(1);
  const [intervention, setIntervention] = useState<{ key: string; state: 'running' | 'ready' | 'error'; result?: SaeInterventionResult; error?: string } | null>(null);

  const list = saes.data ?? [];
  const name = chosen && list.some((s) => s.name === chosen) ? chosen : (list.find((s) => !s.error)?.name ?? null);
  const locations = (studies.data ?? []).filter((s) => s.kind === 'locations');
  // The first locations study by default; 'none' is a choice.
  const study = studyChoice === undefined ? (locations[0]?.id ?? null) : studyChoice;
  const sae = useSae(name);
  const report = useSaeFeatures(name, study);
  const job = jobs.find((j) => j.jobId === jobId) ?? null;
  // A running job keeps the form (and its progress) in view; an ended one stays until the form is hidden.
  const jobLive = job !== null && (job.status === 'running' || job.status === 'queued');
  const taken = useMemo(() => new Set([...list.map((s) => s.name), ...jobs.filter((j) => j.runId.startsWith('saes/')).map((j) => j.runId.slice(5))]), [list, jobs]);

  const r: SaeFeaturesResult | undefined = report.data && report.data.name === name ? report.data : undefined;
  const labels = r?.labelKinds ?? [];
  const miLabel = labels.includes(label) ? label : (labels.find((l) => l === 'latent_country') ?? labels.find((l) => l === 'country') ?? labels[0] ?? '');
  const vector = r && r.topByCosine.trained_sv ? 'trained_sv' : undefined;
  const effSort: FeatureSort = sort === 'cos' && !vector ? 'density' : sort;
  const rows = useMemo(() => (r ? featureRows(r, { sort: effSort, label: miLabel || undefined, vector, limit: LIST_LIMIT }) : []), [r, effSort, miLabel, vector]);
  const picked = feature !== null && r && feature < r.dSae ? feature : (rows.find((x) => x.detailed)?.index ?? null);
  const detail = r && picked !== null ? featureDetail(r, picked) : null;
  const info = r && picked !== null ? r.features[picked] : null;

  // A new SAE or study starts the feature choice over.
  useEffect(() => {
    setFeature(null);
    setIntervention(null);
  }, [name, study]);

  const alpha = alphaOf(k, r?.vectorNorms);
  const interventionKey = JSON.stringify([name, study, picked, alpha]);
  const runIntervention = async () => {
    if (!name || !study || picked === null) return;
    const key = interventionKey;
    setIntervention({ key, state: 'running' });
    try {
      const result = await api.saeIntervention({ name, study, feature: picked, alpha, samples: 100 });
      setIntervention((cur) => (cur?.key === key ? { key, state: 'ready', result } : cur));
    } catch (err) {
      setIntervention((cur) => (cur?.key === key ? { key, state: 'error', error: errorMessage(err) } : cur));
    }
  };
  const shownIntervention = intervention?.result && intervention.result.feature === picked && intervention.result.name === name ? intervention.result : null;

  return (
    <div className="view sae" data-testid="view-sae">
      <div className="view__toolbar">
        <label className="picker">
          SAE{' '}
          <select value={name ?? ''} onChange={(e) => setChosen(e.target.value)} disabled={!list.length} data-testid="sae-picker">
            {!list.length && <option value="">(none yet)</option>}
            {list.map((s) => (
              <option key={s.name} value={s.name}>
                {saeLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label className="picker">
          Study{' '}
          <select value={study ?? ''} onChange={(e) => setStudyChoice(e.target.value || null)} data-testid="sae-study">
            <option value="">(none)</option>
            {locations.map((s) => (
              <option key={s.id} value={s.id}>
                {s.id}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setShowForm((v) => !v)} aria-expanded={showForm || jobLive} data-testid="sae-train-toggle">
          {showForm ? 'Hide the training form' : 'Train an SAE…'}
        </button>
        {(saes.status === 'loading' || sae.status === 'loading') && <span className="view__loading" style={{ padding: 0 }}>Loading…</span>}
      </div>

      {(showForm || jobLive) && (
        <TrainSaeForm
          runs={runs.data ?? []}
          taken={taken}
          job={job}
          onStart={async (req) => {
            const res = await start(req);
            setJobId(res.jobId);
          }}
          onCancel={cancel}
          onOpen={(n) => {
            setChosen(n);
            saes.reload();
          }}
        />
      )}

      {saes.status === 'error' && <ErrorWithRetry onRetry={saes.reload}>Could not list the SAEs: {saes.error}</ErrorWithRetry>}
      {saes.data && !list.length && (
        <div className="view__empty" data-testid="sae-empty">
          <p>
            No SAE in this workspace yet. Train one with the form above (<em>Train an SAE…</em>), or on the command line:
          </p>
          <pre>oocr sae train --run &lt;workspace&gt;/world-base --hook blocks.0.hook_resid_post --out &lt;workspace&gt;/saes/my-sae</pre>
        </div>
      )}
      {sae.status === 'error' && <ErrorWithRetry onRetry={sae.reload}>Could not read SAE {name}: {sae.error}</ErrorWithRetry>}

      {sae.data && sae.data.name === name && (() => {
        const d = sae.data;
        return (
        <>
          <p className="panel__caption" data-testid="sae-summary">
            <strong>{sae.data.name}</strong>: <code>{sae.data.hook}</code> of {sae.data.subject ?? '?'}, {sae.data.architecture === 'topk' ? `TopK (k ${sae.data.k})` : 'ReLU + L1'}, d_in {sae.data.dIn}, d_sae {sae.data.dSae}
            {sae.data.status ? `, ${sae.data.status}` : ''}. {saeMetricParts(sae.data).join(' · ')}
          </p>
          <div className="view__grid">
            {(['loss', 'l0', 'fve'] as const).map((key) => (
              <CurvePanel
                key={key}
                title={key === 'loss' ? 'SAE training loss' : key === 'l0' ? 'L0 over training' : 'Variance explained over training'}
                caption={key === 'loss' ? 'Reconstruction loss (+ sparsity penalty or AuxK), per logged step (log scale).' : key === 'l0' ? 'Mean number of active features per token on the training batch (log scale).' : 'Fraction of variance of the training batch that the reconstruction explains.'}
                series={saeCurve(d.curve, key)}
                yLog={key !== 'fve'}
                yLabel={CURVE_LABELS[key]}
                empty="No training curve (metrics.jsonl) for this SAE."
                testId={`sae-curve-${key}`}
                fileName={`sae-${key}-${d.name}`}
              />
            ))}
            <DensityPanel sae={d} />
          </div>
        </>
        );
      })()}

      {name && (
        <section className="sae__features" aria-label="Features">
          <div className="view__toolbar">
            <strong>Features</strong>
            <label className="picker">
              Sort by{' '}
              <select value={effSort} onChange={(e) => setSort(e.target.value as FeatureSort)} data-testid="sae-sort">
                <option value="density">density</option>
                <option value="mi" disabled={!labels.length}>
                  relevance to a label (MI)
                </option>
                <option value="cos" disabled={!vector}>
                  |cos| with the trained steering vector
                </option>
              </select>
            </label>
            <label className="picker">
              Label{' '}
              <select value={miLabel} onChange={(e) => setLabel(e.target.value)} disabled={!labels.length} data-testid="sae-label">
                {labels.map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
              </select>
            </label>
            {report.status === 'loading' && <span className="view__loading" style={{ padding: 0 }}>Reading features…</span>}
          </div>
          {report.status === 'error' && <ErrorWithRetry onRetry={report.reload}>Could not read the features: {report.error}</ErrorWithRetry>}
          {r && (
            <>
              <p className="panel__caption" data-testid="sae-features-summary">
                {r.features.filter((f) => f.density > 0).length} live features of {r.dSae} on {r.nTokens.toLocaleString('en')} tokens of {r.nPrompts} prompts of {r.subject}
                {r.study ? `; cosines with ${r.study}’s vectors` : ''}. Features marked • have examples, histograms and logit effects (the top {12} of each ranking); click one.
              </p>
              <div className="sae__list-row">
                <FeatureBarsPanel rows={rows} sort={effSort} label={miLabel} vector={vector} csv={() => featureRowsCsv(rows, { label: miLabel || undefined, vector })} selected={picked} onSelect={setFeature} />
                <div className="sae__table-wrap">
                  <table className="sae__table" data-testid="sae-feature-table">
                    <thead>
                      <tr>
                        <th>feature</th>
                        <th>density</th>
                        {miLabel && <th>MI ({miLabel})</th>}
                        {miLabel && <th>fires most on</th>}
                        {vector && <th>cos(v)</th>}
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((x) => (
                        <tr key={x.index} className={x.index === picked ? 'sae__row--picked' : undefined} onClick={() => setFeature(x.index)} data-testid="sae-feature-row" data-feature={x.index} aria-selected={x.index === picked}>
                          <td>
                            #{x.index}
                            {x.detailed ? ' •' : ''}
                          </td>
                          <td>{x.density.toPrecision(2)}</td>
                          {miLabel && <td>{x.mi === null ? '' : x.mi.toFixed(3)}</td>}
                          {miLabel && <td>{x.best === null ? '' : `${x.best} (${((x.pFireGivenBest ?? 0) * 100).toFixed(0)}%)`}</td>}
                          {vector && <td>{x.cos === null ? '' : x.cos.toFixed(2)}</td>}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </div>

              {picked !== null && info && (
                <section className="sae__feature" aria-label={`Feature ${picked}`} data-testid="sae-feature" data-feature={picked}>
                  <h3 className="sae__feature-head">
                    Feature #{picked}{' '}
                    <span className="panel__caption" data-testid="sae-feature-facts">
                      density {info.density.toPrecision(2)}, max activation {info.maxActivation.toFixed(2)}
                      {Object.entries(info.cosines).map(([v, c]) => `, cos with ${v} ${c.toFixed(2)}`)}
                      {miLabel && info.relevance[miLabel] ? `, MI with ${miLabel} ${info.relevance[miLabel]?.mi.toFixed(3)} bits` : ''}
                    </span>
                  </h3>
                  {!detail && <p className="view__empty">No detail for this feature in the report (only the top features of each ranking are detailed).</p>}
                  <div className="view__grid">
                    {detail && <ExamplesPanel feature={detail} />}
                    {detail && <HistogramPanel feature={detail} />}
                    {detail && <LogitPanel feature={detail} />}
                    {Object.keys(info.cosines).length > 0 && <CosinePanel feature={info} norms={r.vectorNorms} />}
                  </div>
                  <div className="sae__intervene" data-testid="sae-intervene">
                    {study ? (
                      <>
                        <label className="picker">
                          Steer with k × ‖v‖ × direction, k{' '}
                          <input type="range" min={-3} max={3} step={0.25} value={k} onChange={(e) => setK(Number(e.target.value))} data-testid="sae-k" />{' '}
                          <output data-testid="sae-k-value">
                            {k} (α = {fmtAlpha(alpha)})
                          </output>
                        </label>
                        <button type="button" onClick={() => void runIntervention()} disabled={intervention?.state === 'running'} data-testid="sae-intervene-run">
                          {intervention?.state === 'running' ? 'Measuring…' : `Ablate and steer with #${picked}`}
                        </button>
                        {intervention?.state === 'error' && (
                          <span className="sae__error" role="alert">
                            {intervention.error}
                          </span>
                        )}
                      </>
                    ) : (
                      <p className="view__empty">Choose a LoRA-vs-steering study (locations) to ablate and steer with this feature on its held-out questions.</p>
                    )}
                  </div>
                  {shownIntervention && <InterventionPanel result={shownIntervention} />}
                </section>
              )}
            </>
          )}
        </section>
      )}
    </div>
  );
}
