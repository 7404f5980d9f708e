import { useMemo, useState } from 'react';
import { linearDomain, unionDomain } from '../../figure/axes';
import { hasCheckpoints } from '../../shell/RunPicker';
import { useNavigate } from '../../shell/navigation';
import { useWorkspace } from '../../shell/workspace';
import { nuclearOverFrobenius } from '../../../../shared/analyses/ovSpectrum';
import { OvColumn } from './components/OvColumn';
import { ShapeComparison } from './components/ShapeComparison';
import { useOvKinds, useOvSpectra } from './useWeightsData';
import { defaultColumns, defaultCompared, headEntries, nearestStepIndex, overTrainingRows, shapeDomain, unionSteps } from './weightsData';

const CHART_WIDTH = 520;

/**
 * The OV circuits W_O W_V of several runs compared by the *shape* of their spectra (σ_k / σ₁ and the
 * effective rank, both scale-free), then two runs head by head. Raw singular values and nuclear norms
 * depend on the parametrisation's scale and are only in the tooltips, the table's last column and the CSVs.
 */
export function WeightsView() {
  const { runs, runId, compareId } = useWorkspace();
  const navigate = useNavigate();
  const { ovOf, errors: ovErrors } = useOvKinds(runs.data, hasCheckpoints);
  const [choice, setChoice] = useState<{ left: string | null; right: string | null }>({ left: null, right: null });
  const [comparedChoice, setComparedChoice] = useState<string[] | null>(null);
  const [stepChoice, setStepChoice] = useState<number | null>(null);

  const admissible = useMemo(() => (runs.data ?? []).filter(hasCheckpoints), [runs.data]);
  const [defLeft, defRight] = useMemo(() => {
    const list = runs.data ?? [];
    // Runs → Compare picked two runs: show those; otherwise factorized vs combined.
    const ok = (id: string | null) => !!id && list.some((r) => r.id === id && hasCheckpoints(r));
    if (ok(runId) && ok(compareId) && runId !== compareId) return [runId, compareId];
    return ovOf ? defaultColumns(list, ovOf, hasCheckpoints) : [null, null];
  }, [runs.data, ovOf, runId, compareId]);
  const left = choice.left ?? defLeft;
  const right = choice.right ?? defRight;
  // By default: every run of the left run's task with a known OV form (factorized at any rank, combined).
  const defCompared = useMemo(() => (ovOf ? defaultCompared(runs.data ?? [], ovOf, hasCheckpoints, defLeft, defRight) : []), [runs.data, ovOf, defLeft, defRight]);
  const compared = useMemo(() => (comparedChoice ?? defCompared).filter((id) => admissible.some((r) => r.id === id)), [comparedChoice, defCompared, admissible]);
  const toggle = (id: string, on: boolean) => {
    const cur = comparedChoice ?? defCompared;
    setComparedChoice(on ? admissible.map((r) => r.id).filter((x) => x === id || cur.includes(x)) : cur.filter((x) => x !== id));
  };

  const spectra = useOvSpectra([...compared, left, right]);
  const L = spectra.of(left);
  const R = spectra.of(right);
  const specOf = (id: string | null) => {
    const d = spectra.of(id).data;
    return d && d.id === id ? d : undefined;
  };
  const specL = specOf(left);
  const specR = specOf(right);
  const shown = [...compared.map(specOf), specL, specR];
  // Cheap (a few runs × checkpoints × 128 values): recomputed each render.
  const steps = unionSteps(...shown.map((s) => s?.steps));
  const yDomain = shapeDomain(shown);
  const xMax = Math.max(2, ...shown.flatMap((s) => s?.heads.flatMap((h) => h.singular_values.map((sv) => sv.length)) ?? []));
  const ratioDomain = useMemo(() => {
    const d = (s: typeof specL) => (s ? linearDomain(overTrainingRows(headEntries(s), nuclearOverFrobenius), 'step') : null);
    const u = unionDomain(d(specL), d(specR));
    return u ? ([0, u[1]] as [number, number]) : null;
  }, [specL, specR]);
  const step = stepChoice !== null && steps.includes(stepChoice) ? stepChoice : steps[steps.length - 1];
  const idxL = specL && step !== undefined ? nearestStepIndex(specL.steps, step) : 0;
  const idxR = specR && step !== undefined ? nearestStepIndex(specR.steps, step) : 0;

  return (
    <div className="view weights-view" data-testid="view-weights">
      <div className="view__toolbar">
        <strong>OV circuits: spectral shape and effective rank</strong>
        <label className="picker" title="Checkpoint step shown by the spectra (each run uses its nearest checkpoint)">
          Step{' '}
          <input
            type="range"
            min={0}
            max={Math.max(0, steps.length - 1)}
            value={step === undefined ? 0 : steps.indexOf(step)}
            disabled={steps.length < 2}
            onChange={(e) => setStepChoice(steps[Number(e.target.value)] ?? null)}
            data-testid="weights-step"
            aria-valuetext={step === undefined ? '' : String(step)}
          />{' '}
          <output data-testid="weights-step-value" style={{ fontVariantNumeric: 'tabular-nums' }}>
            {step ?? '–'}
          </output>
        </label>
      </div>
      {admissible.length > 0 && (
        <fieldset className="weights__compare-runs" data-testid="weights-compare" style={{ border: 0, padding: 0, margin: '0 0 0.5rem', display: 'flex', flexWrap: 'wrap', gap: '0.2rem 0.9rem', fontSize: '0.9rem' }}>
          <legend style={{ float: 'left', marginRight: '0.6rem', padding: 0, fontWeight: 600 }}>Compare</legend>
          {admissible.map((r) => (
            <label key={r.id} title={ovOf?.[r.id] ? `${ovOf[r.id]} OV` : undefined}>
              <input type="checkbox" data-testid="weights-compare-run" value={r.id} checked={compared.includes(r.id)} onChange={(e) => toggle(r.id, e.target.checked)} /> {r.id}
            </label>
          ))}
        </fieldset>
      )}
      <p className="panel__caption" data-testid="weights-caption" style={{ marginTop: 0 }}>
        Runs are compared by the <em>shape</em> of their OV spectra, not their size: σ<sub>k</sub>/σ<sub>1</sub> on log–log axes and the effective rank exp(H(σ/Σσ)) do not change when W_O W_V is rescaled. Raw singular values and nuclear norms (table, CSVs) do not compare across parametrisations: factorized and combined models, and factorized ones of different rank, reach the same logits with W_OV at different scales. A rank-r factorization has at most r non-zero singular values by construction; a run with r = d_model shows what factorized training does without that limit.
      </p>
      {runs.status === 'error' && <p className="view__error">Could not list the runs: {runs.error}</p>}
      {ovErrors.length > 0 && <p className="view__error">Could not read the config of: {ovErrors.join('; ')}</p>}
      {runs.status === 'loading' && !runs.data && <p className="view__loading">Loading runs…</p>}
      {runs.data && admissible.length === 0 && (
        <p className="view__empty">
          No runs with checkpoints in this workspace. Train one (the ocr-factorized and ocr-combined presets show the contrast) in the{' '}
          <a href="#/train" onClick={(e) => (e.preventDefault(), navigate('train'))}>
            Train view
          </a>
          .
        </p>
      )}
      {admissible.length > 0 && (
        <>
          <ShapeComparison ids={compared} of={spectra.of} onRetry={spectra.reload} step={step} yDomain={yDomain} xMax={xMax} width={CHART_WIDTH} />
          <h3 style={{ margin: '1.25rem 0 0.25rem', fontSize: '1rem' }}>Two runs, head by head</h3>
          <div className="weights__columns" style={{ display: 'flex', flexWrap: 'wrap', gap: '1rem', alignItems: 'flex-start' }}>
            <OvColumn side="left" runId={left} onRun={(id) => setChoice((c) => ({ ...c, left: id }))} spectrum={L} onRetry={() => left && spectra.reload(left)} stepIndex={idxL} shapeDomain={yDomain} xMax={xMax} ratioDomain={ratioDomain} width={CHART_WIDTH} />
            <OvColumn side="right" runId={right} onRun={(id) => setChoice((c) => ({ ...c, right: id }))} spectrum={R} onRetry={() => right && spectra.reload(right)} stepIndex={idxR} shapeDomain={yDomain} xMax={xMax} ratioDomain={ratioDomain} width={CHART_WIDTH} />
          </div>
        </>
      )}
    </div>
  );
}
