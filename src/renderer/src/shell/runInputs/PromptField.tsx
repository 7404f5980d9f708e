import { useState, type CSSProperties, type ReactNode } from 'react';
import { HINT } from '../styles';

/** What a prompt field makes of its draft: the problem to show (or null) and what Enter commits. */
export interface PromptCheck {
  error: ReactNode | null;
  committed: string;
  /** Whether the draft differs from the value in use (Enter would change something). */
  pending: boolean;
}

export interface PromptFieldProps {
  label: string;
  /** The prompt in use; the field shows it again whenever it changes from outside. */
  value: string;
  onCommit(text: string): void;
  check(draft: string, value: string): PromptCheck;
  placeholder?: string;
  /** data-testid prefix: `${p}-input`, `${p}-apply`, `${p}-error`. */
  testId: string;
  inputStyle?: CSSProperties;
  /** Extra content after the button (e.g. the example's answer). */
  children?: ReactNode;
}

/**
 * The one prompt form of the views: a draft checked as you type, nothing sent until it is valid and
 * committed with Enter (or Analyse). TokenInput (token names of a run) and TextPrompt (text for a
 * model) differ only in their check.
 */
export function PromptField({ label, value, onCommit, check, placeholder, testId, inputStyle, children }: PromptFieldProps) {
  const [draft, setDraft] = useState(value);
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setDraft(value);
  }
  const c = check(draft, value);
  return (
    <form
      className="view__toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        if (c.error === null) onCommit(c.committed);
      }}
    >
      <label className="picker" style={{ flex: '1 1 24rem', display: 'flex', alignItems: 'center' }}>
        {label}{' '}
        <input
          type="text"
          data-testid={`${testId}-input`}
          value={draft}
          placeholder={placeholder}
          onChange={(e) => setDraft(e.target.value)}
          aria-invalid={c.error !== null}
          spellCheck={false}
          style={{ flex: 1, minWidth: '16rem', fontFamily: 'ui-monospace, monospace', lineHeight: 1.6, ...inputStyle }}
        />
      </label>
      <button type="submit" disabled={c.error !== null || !c.pending} data-testid={`${testId}-apply`}>
        Analyse
      </button>
      {children}
      {c.error !== null && (
        <span className="view__error" role="alert" data-testid={`${testId}-error`}>
          {c.error}
        </span>
      )}
      {c.error === null && c.pending && <span style={HINT}>Press Enter to analyse.</span>}
    </form>
  );
}
