import { useMemo } from 'react';
import type { PatchingAnalysis } from '../../../../../shared/api';
import { standaloneSvg } from '../../../figure/exportFigure';
import { Heatmap, heatmapSvgBody } from '../../../figure/Heatmap';
import { fmt, heatmapLayout, type HeatmapSpec } from '../../../figure/heatmapFigure';
import { Panel } from '../../../figure/Panel';
import { headPatchingCsv, headPatchingSpec, patchingSummary, residPatchingCsv, residPatchingSpec } from '../lensPatchingData';

const METRIC =
  '(LD_patched − LD_corrupted) / (LD_clean − LD_corrupted), LD = logit(clean answer) − logit(wrong) at the last position (by default the wrong token is the corrupted prompt’s answer, so LD says which of the two answers the model gives): 1 = the patch restores the clean answer, 0 = no effect.';

/** How the corrupted prompt was chosen. */
const CORRUPTION: Record<PatchingAnalysis['corruption'], string> = {
  given: 'typed',
  'answer-swap': 'the subject swapped so the true answer changes',
  'prediction-swap': 'one token swapped so the prediction changes (the task gives no answer for this prompt)',
  'eval-prompt': 'the closest eval prompt with another prediction',
};

/** Why a token is the clean or the corrupted answer. */
function source(src: PatchingAnalysis['answerSource'], split: string | undefined): string {
  if (src === 'task') return `true answer${split ? `, ${split}` : ''}`;
  return src === 'given' ? 'chosen' : 'predicted';
}

/** The clean and corrupted prompts (changed tokens marked), the answer and wrong tokens and both logit differences. */
export function PatchingInputs({ p }: { p: PatchingAnalysis }) {
  const s = patchingSummary(p);
  const tokens = (ts: string[]) =>
    ts.map((t, i) => (
      <span key={i}>
        {i > 0 && ' '}
        {s.changed.includes(i) ? <mark>{t}</mark> : t}
      </span>
    ));
  return (
    <div data-testid="patching-inputs" style={{ fontSize: '0.9rem', margin: '0.25rem 0 0.5rem' }}>
      <div>
        Clean: <code data-testid="patching-clean">{tokens(p.tokens)}</code> · corrupted: <code data-testid="patching-corrupted">{tokens(p.corrupted)}</code>{' '}
        <span style={{ color: 'var(--muted)' }}>({CORRUPTION[p.corruption]})</span>
      </div>
      <div data-testid="patching-answers">
        Clean answer <strong data-testid="patching-answer">{p.answer}</strong> ({source(p.answerSource, p.splits.clean)}), corrupted answer <strong data-testid="patching-wrong">{p.wrong}</strong> (
        {source(p.wrongSource, p.splits.corrupted)}) · the model predicts <span data-testid="patching-predictions">{p.predictions.clean} → {p.predictions.corrupted}</span>
      </div>
      <div>
        Metric on LD = logit({p.answer}) − logit({p.wrong}): clean {fmt(s.cleanLogitDiff)}, corrupted {fmt(s.corruptedLogitDiff)}
        {s.changed.length === 0 && ' · the corrupted prompt equals the clean one'}
      </div>
      {s.unstable && (
        <div className="view__error" role="alert" data-testid="patching-unstable">
          The corruption barely changes the logit difference ({fmt(s.cleanLogitDiff)} → {fmt(s.corruptedLogitDiff)}): the normalised metric divides by a small number, so read these maps with care (pick another wrong token or corrupted prompt).
          {p.answerSource === 'task' && p.predictions.clean !== p.answer && ` The model does not give the clean answer here (it predicts ${p.predictions.clean}), so there is little for a patch to restore.`}
        </div>
      )}
    </div>
  );
}

function PatchingHeatmapPanel({ title, testId, fileName, spec, caption, csv }: { title: string; testId: string; fileName: string; spec: HeatmapSpec; caption: string; csv: () => string }) {
  return (
    <Panel
      title={title}
      testId={testId}
      fileName={fileName}
      caption={caption}
      csv={csv}
      svg={(t) => {
        const L = heatmapLayout(spec, t);
        return standaloneSvg(heatmapSvgBody(spec, t), L.totalWidth, L.totalHeight, t, { title });
      }}
    >
      <Heatmap {...spec} />
    </Panel>
  );
}

/** (c) Residual stream patching, layer × position. */
export function ResidPatchingPanel({ p }: { p: PatchingAnalysis }) {
  const spec = useMemo(() => residPatchingSpec(p), [p]);
  return (
    <PatchingHeatmapPanel
      title="Activation patching: residual stream"
      testId="patching-resid"
      fileName={`patching-resid-${p.id}-step-${p.step}`}
      spec={spec}
      caption={`Clean blocks.{layer}.hook_${p.residual.hook} at one position patched into the corrupted run. Metric ${METRIC}`}
      csv={() => residPatchingCsv(p)}
    />
  );
}

/** (d) Head patching (each head's hook_z at every position), layer × head. */
export function HeadPatchingPanel({ p }: { p: PatchingAnalysis }) {
  const spec = useMemo(() => headPatchingSpec(p), [p]);
  return (
    <PatchingHeatmapPanel
      title="Activation patching: heads"
      testId="patching-heads"
      fileName={`patching-heads-${p.id}-step-${p.step}`}
      spec={spec}
      caption={`Clean blocks.{layer}.attn.hook_z of one head (all positions) patched into the corrupted run. Same metric.`}
      csv={() => headPatchingCsv(p)}
    />
  );
}
