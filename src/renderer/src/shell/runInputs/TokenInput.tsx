import { useState, type ReactNode } from 'react';
import { checkPromptText } from './promptText';
import { HINT } from '../styles';

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
  const [draft, setDraft] = useState(value);
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setDraft(value);
  }
  const check = checkPromptText(draft, vocab, { maxLen, length });
  const pending = check.tokens.join(' ') !== value.trim().split(/\s+/).filter(Boolean).join(' ');
  return (
    <form
      className="view__toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        if (!check.error) onCommit(check.tokens.join(' '));
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
          aria-invalid={check.error !== null}
          spellCheck={false}
          style={{ flex: 1, minWidth: '16rem', fontFamily: 'ui-monospace, monospace', lineHeight: 1.6 }}
        />
      </label>
      <button type="submit" disabled={check.error !== null || !pending} data-testid={`${testId}-apply`}>
        Analyse
      </button>
      {children}
      {check.error && (
        <span className="view__error" role="alert" data-testid={`${testId}-error`}>
          {check.unknown.length ? (
            <>
              Unknown token{check.unknown.length > 1 ? 's' : ''}:{' '}
              {check.unknown.map((t, i) => (
                <span key={t}>
                  {i > 0 && ', '}
                  <code>{t}</code>
                </span>
              ))}
            </>
          ) : (
            check.error
          )}
        </span>
      )}
      {!check.error && pending && <span style={HINT}>Press Enter to analyse.</span>}
    </form>
  );
}
