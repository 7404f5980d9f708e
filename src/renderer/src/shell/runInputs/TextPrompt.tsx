import type { ReactNode } from 'react';
import type { ModelSummary } from '../../../../shared/api';
import { PromptField, type PromptCheck } from './PromptField';

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
  const check = (draft: string, inUse: string): PromptCheck => ({
    error: draft.length > MAX_PROMPT_CHARS ? `${draft.length} characters; at most ${MAX_PROMPT_CHARS}` : null,
    committed: draft,
    pending: draft !== inUse,
  });
  return (
    <PromptField
      label={label}
      value={value}
      onCommit={onCommit}
      check={check}
      placeholder={placeholder ?? (model.tokenizer === false ? 'token ids, e.g. #12 #7 3 (this model has no tokenizer.json)' : 'text, e.g. The Eiffel Tower is in the city of')}
      testId={testId}
      inputStyle={{ whiteSpace: 'pre' }}
    >
      {children}
    </PromptField>
  );
}
