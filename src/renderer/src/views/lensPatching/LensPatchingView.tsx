import { useState } from 'react';
import { hasCheckpoints, RunPicker } from '../../shell/RunPicker';
import { PromptPicker } from '../../shell/runInputs/PromptPicker';
import { RunInputsStatus } from '../../shell/runInputs/RunInputsStatus';
import { splitPrompt } from '../../shell/runInputs/promptText';
import { StepSelect } from '../../shell/runInputs/StepSelect';
import { resolveStep } from '../../shell/runInputs/steps';
import { TokenInput } from '../../shell/runInputs/TokenInput';
import { usePerRun, useRunInputs } from '../../shell/runInputs/useRunInputs';
import { FIT, HINT } from '../../shell/styles';
import { DlaPanel, LogitLensPanel } from './components/LensPanels';
import { HeadPatchingPanel, PatchingInputs, ResidPatchingPanel } from './components/PatchingPanels';
import { useLens, usePatching } from './useLensPatchingData';
import { ErrorWithRetry } from '../../shell/ErrorWithRetry';

const TOP_K = [3, 5, 10, 20];

/** A <select> of one vocabulary token, or none (the backend's default). */
function TokenSelect({ label, value, onChange, vocab, none, testId }: { label: string; value: string; onChange: (t: string) => void; vocab: readonly string[] | undefined; none: string; testId: string }) {
  return (
    <label className="picker">
      {label}{' '}
      <select data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)} disabled={!vocab}>
        <option value="">{none}</option>
        {value && !vocab?.includes(value) && <option value={value}>{value}</option>}
        {vocab?.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Per-run choices of this view (a run change starts over from the defaults). */
interface Choices {
  step: number | null;
  answer: string;
  corrupt: string;
  wrong: string;
}

/**
 * Logit lens and direct logit attribution for one prompt at one checkpoint, then activation patching
 * from a corrupted prompt (residual stream by layer × position, heads by layer × head).
 */
export function LensPatchingView() {
  const input = useRunInputs();
  const { runId, details, samples } = input;
  const checkpoints = details.data?.checkpoints ?? [];
  const [mine, set] = usePerRun<Choices>(runId, { step: null, answer: '', corrupt: '', wrong: '' });
  const step = checkpoints.length ? resolveStep(mine.step, checkpoints, checkpoints[checkpoints.length - 1]) : null;
  const [topK, setTopK] = useState(5);
  const nCtx = details.data?.manifest.config.model.nCtx;

  const lens = useLens({ runId, step, prompt: input.prompt, answer: mine.answer, topK });
  const patching = usePatching({ runId, step, prompt: input.prompt, corrupt: mine.corrupt, answer: mine.answer, wrong: mine.wrong });
  const vocab = samples.data?.vocab;
  // A typed corrupted prompt must be as long as the clean one (typed, or the backend's default once known).
  const cleanLength = input.prompt ? splitPrompt(input.prompt).length : (lens.data?.tokens.length ?? patching.data?.tokens.length);

  return (
    <div data-testid="view-lens-patching">
      <div className="view__toolbar">
        <RunPicker value={runId} onChange={input.setRunId} accept={hasCheckpoints} testId="lens-run" />
        <StepSelect label="Checkpoint" steps={checkpoints} value={step} onChange={(s) => set({ step: s })} testId="lens-step" />
        <TokenSelect label="Answer" value={mine.answer} onChange={(t) => set({ answer: t })} vocab={vocab} none="(the model's top prediction)" testId="lens-answer" />
        <label className="picker">
          Lens top-k{' '}
          <select data-testid="lens-topk" value={topK} onChange={(e) => setTopK(Number(e.target.value))}>
            {TOP_K.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
      </div>
      <PromptPicker
        samples={samples.data}
        value={input.prompt}
        onChange={(t, example) => {
          input.setPrompt(t);
          // An example's answer is the task's; typed text has none. A corrupted prompt belongs to its clean prompt.
          set({ answer: example?.answer ?? '', corrupt: '', wrong: '' });
        }}
        maxLen={nCtx}
        testId="lens-prompt"
      />

      <RunInputsStatus input={input} />

      <h2 style={{ fontSize: '1.05rem', margin: '0.5rem 0' }}>Logit lens and direct logit attribution</h2>
      {lens.status === 'error' && (
        <ErrorWithRetry onRetry={lens.reload} testId="lens-error">
          Logit lens failed: {lens.error}
        </ErrorWithRetry>
      )}
      {lens.status === 'loading' && <p className="view__loading">{lens.data ? 'Updating the logit lens…' : 'Computing the logit lens…'}</p>}
      {lens.data && (
        <>
          <p style={HINT}>
            {lens.data.id}, step {lens.data.step}: prompt <code>{lens.data.tokens.join(' ')}</code>
            {!input.prompt && ' (the backend’s default held-out prompt)'}
          </p>
          <div className="view__grid" style={{ opacity: lens.status === 'ready' ? 1 : 0.5 }}>
            <div style={FIT}>
              <LogitLensPanel lens={lens.data} topK={topK} />
            </div>
            <div style={FIT}>
              <DlaPanel lens={lens.data} />
            </div>
          </div>
        </>
      )}

      <h2 style={{ fontSize: '1.05rem', margin: '1rem 0 0.5rem' }}>Activation patching</h2>
      <TokenInput
        label="Corrupted prompt"
        value={mine.corrupt}
        onCommit={(t) => set({ corrupt: t })}
        vocab={vocab}
        maxLen={nCtx}
        length={cleanLength}
        testId="patching-corrupt"
        placeholder="empty: the backend picks a corrupted prompt with another answer"
      >
        <TokenSelect label="Wrong token" value={mine.wrong} onChange={(t) => set({ wrong: t })} vocab={vocab} none="(the model's prediction on the corrupted prompt)" testId="patching-wrong-select" />
      </TokenInput>
      {patching.status === 'error' && (
        <ErrorWithRetry onRetry={patching.reload} testId="patching-error">
          Patching failed: {patching.error}
        </ErrorWithRetry>
      )}
      {patching.status === 'loading' && <p className="view__loading">{patching.data ? 'Updating the patching…' : 'Patching activations…'}</p>}
      {patching.data && (
        <div style={{ opacity: patching.status === 'ready' ? 1 : 0.5 }}>
          <PatchingInputs p={patching.data} />
          <div className="view__grid">
            <div style={FIT}>
              <ResidPatchingPanel p={patching.data} />
            </div>
            <div style={FIT}>
              <HeadPatchingPanel p={patching.data} />
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
