import { useMemo, useState } from 'react';
import { decadeDomain, linearDomain, unionDomain } from '../../figure/axes';
import { hasCheckpoints } from '../../shell/RunPicker';
import { useNavigate } from '../../shell/navigation';
import { useWorkspace } from '../../shell/workspace';
import { OvColumn } from './components/OvColumn';
import { useOvKinds, useOvSpectrum } from './useWeightsData';
import { defaultColumns, nearestStepIndex, nuclearRows, spectrumExtent, unionSteps } from './weightsData';

const CHART_WIDTH = 520;
const TOP_OPTIONS = [0, 64, 32, 16] as const;

/**
 * The factorization story of arXiv 2506.10887: the OV circuit W_O W_V of a factorized model (low rank,
 * nuclear-norm bias) beside a combined W_OV model (Frobenius bias), with a shared step and y-axes.
 */
export function WeightsView() {
  const { runs, runId, compareId } = useWorkspace();
  const navigate = useNavigate();
  const { ovOf, errors: ovErrors } = useOvKinds(runs.data, hasCheckpoints);
  const [choice, setChoice] = useState<{ left: string | null; right: string | null }>({ left: null, right: null });
  const [stepChoice, setStepChoice] = useState<number | null>(null);
  const [sharedY, setSharedY] = useState(true);
  const [top, setTop] = useState<number>(0);

  const [defLeft, defRight] = useMemo(() => {
    const list = runs.data ?? [];
    // Runs → Compare picked two runs: show those; otherwise factorized vs combined.
    const ok = (id: string | null) => !!id && list.some((r) => r.id === id && hasCheckpoints(r));
    if (ok(runId) && ok(compareId) && runId !== compareId) return [runId, compareId];
    return ovOf ? defaultColumns(list, ovOf, hasCheckpoints) : [null, null];
  }, [runs.data, ovOf, runId, compareId]);
  const left = choice.left ?? defLeft;
  const right = choice.right ?? defRight;

  const L = useOvSpectrum(left);
  const R = useOvSpectrum(right);
  const specL = L.data && L.data.id === left ? L.data : undefined;
  const specR = R.data && R.data.id === right ? R.data : undefined;

  const steps = useMemo(() => unionSteps(specL?.steps, specR?.steps), [specL, specR]);
  const step = stepChoice !== null && steps.includes(stepChoice) ? stepChoice : steps[steps.length - 1];
  const idxL = specL && step !== undefined ? nearestStepIndex(specL.steps, step) : 0;
  const idxR = specR && step !== undefined ? nearestStepIndex(specR.steps, step) : 0;
  const topN = top || undefined;

  const domains = useMemo(() => {
    const svL = decadeDomain(specL ? spectrumExtent(specL, topN) : null);
    const svR = decadeDomain(specR ? spectrumExtent(specR, topN) : null);
    const nnL = specL ? linearDomain(nuclearRows(specL), 'step') : null;
    const nnR = specR ? linearDomain(nuclearRows(specR), 'step') : null;
    if (!sharedY) return { svL, svR, nnL, nnR };
    const sv = unionDomain(svL, svR);
    const nn = unionDomain(nnL, nnR);
    return { svL: sv, svR: sv, nnL: nn, nnR: nn };
  }, [specL, specR, topN, sharedY]);

  const admissible = (runs.data ?? []).filter(hasCheckpoints);

  return (
    <div className="view weights-view" data-testid="view-weights">
      <div className="view__toolbar">
        <strong>OV circuits: factorized vs combined</strong>
        <label className="picker" title="Checkpoint step shown by the singular-value panels (both columns; each uses its nearest checkpoint)">
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
        <label className="picker">
          Singular values{' '}
          <select value={top} onChange={(e) => setTop(Number(e.target.value))} data-testid="weights-top">
            {TOP_OPTIONS.map((n) => (
              <option key={n} value={n}>
                {n ? `first ${n}` : 'all'}
              </option>
            ))}
          </select>
        </label>
        <label title="Both columns use the same y-axis range, so their spectra and norms compare by eye">
          <input type="checkbox" checked={sharedY} onChange={(e) => setSharedY(e.target.checked)} data-testid="weights-shared-y" /> Shared y-axis
        </label>
      </div>
      <p className="panel__caption" style={{ marginTop: 0 }}>
        arXiv 2506.10887: trained as a product W_O W_V, gradient descent minimises the OV matrix’s nuclear norm and finds a low-rank circuit that generalises to the held-out implications; trained as one W_OV it minimises the Frobenius norm and stays high-rank.
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
        <div className="weights__columns" style={{ display: 'flex', flexWrap: 'wrap', gap: '1rem', alignItems: 'flex-start' }}>
          <OvColumn side="left" runId={left} onRun={(id) => setChoice((c) => ({ ...c, left: id }))} spectrum={L} onRetry={L.reload} stepIndex={idxL} top={topN} svDomain={domains.svL} nuclearDomain={domains.nnL} width={CHART_WIDTH} />
          <OvColumn side="right" runId={right} onRun={(id) => setChoice((c) => ({ ...c, right: id }))} spectrum={R} onRetry={R.reload} stepIndex={idxR} top={topN} svDomain={domains.svR} nuclearDomain={domains.nnR} width={CHART_WIDTH} />
        </div>
      )}
    </div>
  );
}
