import { useState, type ReactNode } from 'react';
import type { ModelSummary } from '../../../../shared/api';
import { HINT } from '../styles';

/** The API's prompt limit (src/shared/analyses/fields.ts). */
export const MAX_PROMPT_CHARS = 2000;

export interface TextPromptProps {
  label?: string;
  /** The text in use ('' = the backend's default); the field shows it again whenever it changes from outside. */
  value: string;
  /** Called with the text as typed (spaces kept: they are part of the tokens) on Enter or Analyse. */
  onCommit(text: string): void;
  model: ModelSummary;
  placeholder?: string;
  /** data-testid prefix: `${p}-input`, `${p}-apply`, `${p}-error`. */
  testId: string;
  children?: ReactNode;
}

/**
 * A prompt for a Hugging Face model: text, tokenized by the model's own tokenizer on the backend
 * (the analysis answers with the tokens, labelled with visible spaces). A model without
 * tokenizer.json takes token ids ("#12 #7 3").
 */
export function TextPrompt({ label = 'Text', value, onCommit, model, placeholder, testId, children }: TextPromptProps) {
  const [draft, setDraft] = useState(value);
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setDraft(value);
  }
  const error = draft.length > MAX_PROMPT_CHARS ? `${draft.length} characters; at most ${MAX_PROMPT_CHARS}` : null;
  const pending = draft !== value;
  return (
    <form
      className="view__toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        if (!error) onCommit(draft);
      }}
    >
      <label className="picker" style={{ flex: '1 1 24rem', display: 'flex', alignItems: 'center' }}>
        {label}{' '}
        <input
          type="text"
          data-testid={`${testId}-input`}
          value={draft}
          placeholder={placeholder ?? (model.tokenizer === false ? 'token ids, e.g. #12 #7 3 (this model has no tokenizer.json)' : 'text, e.g. The Eiffel Tower is in the city of')}
          onChange={(e) => setDraft(e.target.value)}
          aria-invalid={error !== null}
          spellCheck={false}
          style={{ flex: 1, minWidth: '16rem', fontFamily: 'ui-monospace, monospace', lineHeight: 1.6, whiteSpace: 'pre' }}
        />
      </label>
      <button type="submit" disabled={error !== null || !pending} data-testid={`${testId}-apply`}>
        Analyse
      </button>
      {children}
      {error && (
        <span className="view__error" role="alert" data-testid={`${testId}-error`}>
          {error}
        </span>
      )}
      {!error && pending && <span style={HINT}>Press Enter to analyse.</span>}
    </form>
  );
}
