import { useMemo, useState } from 'react';
import { hasCheckpoints, RunPicker } from '../../shell/RunPicker';
import { PromptPicker } from '../../shell/runInputs/PromptPicker';
import { RunInputsStatus } from '../../shell/runInputs/RunInputsStatus';
import { StepSelect } from '../../shell/runInputs/StepSelect';
import { TextPrompt } from '../../shell/runInputs/TextPrompt';
import { resolveStep } from '../../shell/runInputs/steps';
import { usePerRun, useRunInputs } from '../../shell/runInputs/useRunInputs';
import { HINT, SIDE_BY_SIDE } from '../../shell/styles';
import { ALL_HEADS, attentionScale, defaultSteps, headChoices, headPatterns, isSoftmax, type HeadFilter } from './attentionData';
import { CheckpointPatterns } from './components/CheckpointPatterns';
import { useAttention } from './useAttentionData';

/** A model folder has one set of weights, analysed as step 0. */
const MODEL_STEPS = [0];

/**
 * Attention patterns of two checkpoints of one run, side by side: for one prompt, every layer × head
 * as a query × key heatmap (CircuitsVis's AttentionPatterns, one grid per checkpoint). A Hugging Face
 * model has one grid, for a typed text whose tokens label the axes.
 */
export function AttentionView() {
  const input = useRunInputs({ models: true });
  const { runId, details, samples, model } = input;
  const checkpoints = model ? MODEL_STEPS : (details.data?.checkpoints ?? []);
  const defaults = defaultSteps(checkpoints);

  // Chosen steps belong to a run; another run starts from its first and last checkpoints.
  const [mine, setChosen] = usePerRun<{ a: number | null; b: number | null }>(runId, { a: null, b: null });
  const stepA = defaults ? resolveStep(mine.a, checkpoints, defaults[0]) : null;
  const stepB = defaults ? resolveStep(mine.b, checkpoints, defaults[1]) : null;
  const setStep = (side: 'a' | 'b', step: number) => setChosen({ a: stepA, b: stepB, [side]: step });

  const [filter, setFilter] = useState<HeadFilter>(ALL_HEADS);
  const A = useAttention(runId, stepA, input.prompt);
  // The same checkpoint on both sides is computed once.
  const other = useAttention(runId, stepB === stepA ? null : stepB, input.prompt);
  const B = stepB === stepA ? A : other;

  const choices = headChoices([A.data, B.data]);
  const softmax = isSoftmax(details.data?.manifest.config.model.attention, [A.data, B.data]);
  const patternsA = useMemo(() => (A.data ? headPatterns(A.data, filter) : []), [A.data, filter]);
  const patternsB = useMemo(() => (B.data ? headPatterns(B.data, filter) : []), [B.data, filter]);
  const scale = useMemo(() => attentionScale(softmax, [...patternsA, ...patternsB]), [softmax, patternsA, patternsB]);

  return (
    <div data-testid="view-attention">
      <div className="view__toolbar">
        <RunPicker value={runId} onChange={input.setRunId} accept={hasCheckpoints} models testId="attention-run" />
        {!model && (
          <>
            <StepSelect label="Left" steps={checkpoints} value={stepA} onChange={(s) => setStep('a', s)} testId="attention-step-a" />
            <StepSelect label="Right" steps={checkpoints} value={stepB} onChange={(s) => setStep('b', s)} testId="attention-step-b" />
          </>
        )}
        <label className="picker">
          Layer{' '}
          <select data-testid="attention-layer" value={String(filter.layer)} onChange={(e) => setFilter({ ...filter, layer: e.target.value === 'all' ? 'all' : Number(e.target.value) })}>
            <option value="all">all</option>
            {choices.layers.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label className="picker">
          Head{' '}
          <select data-testid="attention-head-filter" value={String(filter.head)} onChange={(e) => setFilter({ ...filter, head: e.target.value === 'all' ? 'all' : Number(e.target.value) })}>
            <option value="all">all</option>
            {Array.from({ length: choices.nHeads }, (_, h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
        </label>
      </div>
      {model ? (
        <TextPrompt value={input.prompt} onCommit={(t) => input.setPrompt(t)} model={model} testId="attention-prompt" />
      ) : (
        <PromptPicker samples={samples.data} value={input.prompt} onChange={(t) => input.setPrompt(t)} maxLen={details.data?.manifest.config.model.nCtx} testId="attention-prompt" />
      )}

      <RunInputsStatus input={input} />
      {details.data && !checkpoints.length && <p className="view__empty">Run {runId} has no checkpoints.</p>}
      {checkpoints.length === 1 && !model && <p style={HINT}>This run saved one checkpoint (step {checkpoints[0]}): both sides show it.</p>}
      {stepA !== null && stepA === stepB && checkpoints.length > 1 && <p style={HINT}>Both sides show the same checkpoint: pick another step on one side to compare.</p>}

      {model && runId && stepA !== null && (
        <div style={SIDE_BY_SIDE}>
          <CheckpointPatterns runId={runId} step={stepA} state={A} patterns={patternsA} scale={scale} title={`Attention, ${model.id} (${model.architecture})`} />
        </div>
      )}
      {!model && runId && stepA !== null && stepB !== null && (
        <div style={SIDE_BY_SIDE}>
          <CheckpointPatterns runId={runId} step={stepA} state={A} patterns={patternsA} scale={scale} />
          <CheckpointPatterns runId={runId} step={stepB} state={B} patterns={patternsB} scale={scale} />
        </div>
      )}
    </div>
  );
}
