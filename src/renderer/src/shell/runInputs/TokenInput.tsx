import type { ReactNode } from 'react';
import { checkPromptText } from './promptText';
import { PromptField, type PromptCheck } from './PromptField';

export interface TokenInputProps {
  label: string;
  /** The text in use; the field shows it again whenever it changes from outside. */
  value: string;
  /** Called with checked, normalised text when the user presses Enter (or Analyse). */
  onCommit(text: string): void;
  vocab: readonly string[] | undefined;
  maxLen?: number;
  /** A length the prompt must have (a corrupted prompt: as long as the clean one). */
  length?: number;
  placeholder?: string;
  /** data-testid prefix: `${p}-input`, `${p}-error`. */
  testId: string;
  /** Extra content after the button (e.g. the example's answer). */
  children?: ReactNode;
}

/**
 * A space-separated token field checked against the vocabulary as you type: unknown tokens are listed
 * inline and nothing is sent until the text is valid and committed with Enter.
 */
export function TokenInput({ label, value, onCommit, vocab, maxLen, length, placeholder, testId, children }: TokenInputProps) {
  const check = (draft: string, inUse: string): PromptCheck => {
    const c = checkPromptText(draft, vocab, { maxLen, length });
    const committed = c.tokens.join(' ');
    const error = !c.error ? null : c.unknown.length ? (
      <>
        Unknown token{c.unknown.length > 1 ? 's' : ''}:{' '}
        {c.unknown.map((t, i) => (
          <span key={t}>
            {i > 0 && ', '}
            <code>{t}</code>
          </span>
        ))}
      </>
    ) : (
      c.error
    );
    return { error, committed, pending: committed !== inUse.trim().split(/\s+/).filter(Boolean).join(' ') };
  };
  return <PromptField label={label} value={value} onCommit={onCommit} check={check} placeholder={placeholder} testId={testId}>{children}</PromptField>;
}
