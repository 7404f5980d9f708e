import { useState } from 'react';
import type { LensAnalysis } from '../../../../shared/api';
import type { DlaAttribution } from '../../../../shared/analyses/logitLens';
import { hasCheckpoints, RunPicker } from '../../shell/RunPicker';
import { PromptPicker } from '../../shell/runInputs/PromptPicker';
import { RunInputsStatus } from '../../shell/runInputs/RunInputsStatus';
import { splitPrompt } from '../../shell/runInputs/promptText';
import { StepSelect } from '../../shell/runInputs/StepSelect';
import { TextPrompt } from '../../shell/runInputs/TextPrompt';
import { resolveStep } from '../../shell/runInputs/steps';
import { TokenInput } from '../../shell/runInputs/TokenInput';
import { usePerRun, useRunInputs } from '../../shell/runInputs/useRunInputs';
import { FIT, HINT } from '../../shell/styles';
import { fmt } from '../../figure/heatmapFigure';
import { DlaPanel, LogitLensPanel } from './components/LensPanels';
import { HeadPatchingPanel, PatchingInputs, ResidPatchingPanel } from './components/PatchingPanels';
import { useLens, usePatching } from './useLensPatchingData';
import { ErrorWithRetry } from '../../shell/ErrorWithRetry';

const TOP_K = [3, 5, 10, 20];
const ATTRIBUTIONS: { value: DlaAttribution; label: string }[] = [
  { value: 'logit-diff', label: 'logit difference' },
  { value: 'centred', label: 'centred logit' },
  { value: 'logit', label: 'raw logit' },
];
const MODEL_STEPS = [0];

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

/**
 * One token of a model's large vocabulary, typed: its label ('·Paris'), its text when that is one
 * token, or '#id'; empty for the backend's default. Applied on Enter or when the field loses focus.
 */
function TokenField({ label, value, onChange, none, testId }: { label: string; value: string; onChange: (t: string) => void; none: string; testId: string }) {
  const [draft, setDraft] = useState(value);
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setDraft(value);
  }
  return (
    <label className="picker">
      {label}{' '}
      <input
        type="text"
        data-testid={testId}
        value={draft}
        placeholder={none}
        spellCheck={false}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={() => draft !== value && onChange(draft)}
        onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), onChange(draft))}
        style={{ fontFamily: 'ui-monospace, monospace', width: '12rem' }}
      />
    </label>
  );
}

/** Per-run choices of this view (a run change starts over from the defaults). */
interface Choices {
  step: number | null;
  answer: string;
  corrupt: string;
  wrong: string;
  /** The token direct logit attribution subtracts ('' = the backend's choice). */
  dlaWrong: string;
}

/** How the lens's answer was chosen, and the model's own prediction beside it. */
function LensAnswer({ lens }: { lens: LensAnalysis }) {
  const why =
    lens.answerSource === 'task'
      ? `the task's true answer${lens.split ? `, ${lens.split}` : ''}`
      : lens.answerSource === 'given'
        ? 'chosen'
        : 'predicted: the model’s top prediction (the task gives no answer for this prompt)';
  return (
    <p style={HINT} data-testid="lens-answer-line">
      Answer <strong data-testid="lens-answer-value">{lens.answer}</strong> <span data-testid="lens-answer-source">({why})</span> · prediction:{' '}
      <strong data-testid="lens-prediction">{lens.prediction.token}</strong> (p {fmt(lens.prediction.prob)})
      {lens.answerSource === 'task' && lens.prediction.token !== lens.answer && ' — the model gets this prompt wrong'}
    </p>
  );
}

/**
 * Logit lens and direct logit attribution for one prompt at one checkpoint, then activation patching
 * from a corrupted prompt (residual stream by layer × position, heads by layer × head).
 */
export function LensPatchingView() {
  const input = useRunInputs({ models: true });
  const { runId, details, samples, model } = input;
  // A model folder has one set of weights, analysed as step 0.
  const checkpoints = model ? MODEL_STEPS : (details.data?.checkpoints ?? []);
  const [mine, set] = usePerRun<Choices>(runId, { step: null, answer: '', corrupt: '', wrong: '', dlaWrong: '' });
  const step = checkpoints.length ? resolveStep(mine.step, checkpoints, checkpoints[checkpoints.length - 1]) : null;
  const [topK, setTopK] = useState(5);
  const [attribution, setAttribution] = useState<DlaAttribution>('logit-diff');
  const nCtx = model ? model.nCtx : details.data?.manifest.config.model.nCtx;

  const lens = useLens({ runId, step, prompt: input.prompt, answer: mine.answer, topK, attribution, wrong: attribution === 'logit-diff' ? mine.dlaWrong : '' });
  // A model has no task to pick a corrupted prompt from: it patches once a corrupted text is typed.
  const patching = usePatching({ runId: model && !mine.corrupt ? null : runId, step, prompt: input.prompt, corrupt: mine.corrupt, answer: mine.answer, wrong: mine.wrong });
  const vocab = samples.data?.vocab;
  // A typed corrupted prompt must be as long as the clean one (typed, or the backend's default once known).
  // A model's texts are tokenized on the backend, which checks their lengths.
  const cleanLength = model ? undefined : input.prompt ? splitPrompt(input.prompt).length : (lens.data?.tokens.length ?? patching.data?.tokens.length);

  return (
    <div data-testid="view-lens-patching">
      <div className="view__toolbar">
        <RunPicker value={runId} onChange={input.setRunId} accept={hasCheckpoints} models testId="lens-run" />
        {!model && <StepSelect label="Checkpoint" steps={checkpoints} value={step} onChange={(s) => set({ step: s })} testId="lens-step" />}
        {model ? (
          <TokenField label="Answer" value={mine.answer} onChange={(t) => set({ answer: t, dlaWrong: '' })} none="top prediction; or ·Paris, #id" testId="lens-answer" />
        ) : (
          <TokenSelect label="Answer" value={mine.answer} onChange={(t) => set({ answer: t, dlaWrong: '' })} vocab={vocab} none="(the task's answer, else the top prediction)" testId="lens-answer" />
        )}
        <label className="picker">
          DLA of{' '}
          <select data-testid="dla-method" value={attribution} onChange={(e) => setAttribution(e.target.value as DlaAttribution)}>
            {ATTRIBUTIONS.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </label>
        {attribution === 'logit-diff' &&
          (model ? (
            <TokenField label="answer minus" value={mine.dlaWrong} onChange={(t) => set({ dlaWrong: t })} none="the next most likely token" testId="dla-wrong" />
          ) : (
            <TokenSelect label="answer minus" value={mine.dlaWrong} onChange={(t) => set({ dlaWrong: t })} vocab={vocab} none="(the most likely wrong answer)" testId="dla-wrong" />
          ))}
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
      {model ? (
        <TextPrompt
          value={input.prompt}
          onCommit={(t) => {
            input.setPrompt(t);
            set({ answer: '', corrupt: '', wrong: '', dlaWrong: '' });
          }}
          model={model}
          testId="lens-prompt"
        />
      ) : (
        <PromptPicker
          samples={samples.data}
          value={input.prompt}
          onChange={(t) => {
            input.setPrompt(t);
            // The backend knows the true answer of every prompt the task asks (examples included) and
            // defaults to it; a corrupted prompt belongs to its clean prompt.
            set({ answer: '', corrupt: '', wrong: '', dlaWrong: '' });
          }}
          maxLen={nCtx}
          testId="lens-prompt"
        />
      )}

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
            {lens.data.id}
            {model ? '' : `, step ${lens.data.step}`}: prompt <code data-testid="lens-tokens">{lens.data.tokens.join(' ')}</code>
            {!input.prompt && (model ? ' (the default text)' : ' (the backend’s default held-out prompt)')}
          </p>
          <LensAnswer lens={lens.data} />
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
      {model ? (
        <TextPrompt
          label="Corrupted text"
          value={mine.corrupt}
          onCommit={(t) => set({ corrupt: t })}
          model={model}
          testId="patching-corrupt"
          placeholder="the clean text with a word swapped (as many tokens), e.g. The Colosseum is in the city of"
        >
          <TokenField label="Wrong token" value={mine.wrong} onChange={(t) => set({ wrong: t })} none="prediction on the corrupted text" testId="patching-wrong-select" />
        </TextPrompt>
      ) : (
        <TokenInput
          label="Corrupted prompt"
          value={mine.corrupt}
          onCommit={(t) => set({ corrupt: t })}
          vocab={vocab}
          maxLen={nCtx}
          length={cleanLength}
          testId="patching-corrupt"
          placeholder="empty: the subject swapped for one with another true answer"
        >
          <TokenSelect label="Wrong token" value={mine.wrong} onChange={(t) => set({ wrong: t })} vocab={vocab} none="(the corrupted prompt's answer)" testId="patching-wrong-select" />
        </TokenInput>
      )}
      {model && !mine.corrupt && (
        <p style={HINT} data-testid="patching-needs-corrupt">
          Type a corrupted text with as many tokens as the clean one (the tokens are shown above) to patch from it.
        </p>
      )}
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
