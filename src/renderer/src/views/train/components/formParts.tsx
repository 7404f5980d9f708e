import { useState, type FormEvent } from 'react';
import { errorMessage, useReportError } from '../../../shell/errors';

/**
 * What the Train and Study forms share: the start state (a name that follows the default until
 * edited, busy, the API's error) and the name, number and start fields. Test ids derive from a
 * prefix (`train-name`, `train-name-error`, `train-start`, `train-error`; `study-…`).
 */

export interface StartForm<R> {
  /** The typed name; null while it follows the default. */
  name: string | null;
  setName(name: string): void;
  /** Time of the last start (default names carry it, so each start gets a fresh folder). */
  stamp: Date;
  busy: boolean;
  apiError: string | null;
  /** The form's submit handler: starts `request` (when valid), then resets the name to the default. */
  submit(request: R | null | undefined): (e: FormEvent) => Promise<void>;
}

/** Start state of a form; failures are shown in the form and reported as `action`. */
export function useStartForm<R>(onStart: (req: R) => Promise<unknown>, action: string): StartForm<R> {
  const report = useReportError();
  const [name, setName] = useState<string | null>(null);
  const [stamp, setStamp] = useState(() => new Date());
  const [busy, setBusy] = useState(false);
  const [apiError, setApiError] = useState<string | null>(null);
  const submit = (request: R | null | undefined) => async (e: FormEvent) => {
    e.preventDefault();
    if (!request) return;
    setBusy(true);
    setApiError(null);
    try {
      await onStart(request);
      setName(null);
      setStamp(new Date());
    } catch (err) {
      setApiError(errorMessage(err));
      report(err, action);
    } finally {
      setBusy(false);
    }
  };
  return { name, setName, stamp, busy, apiError, submit };
}

/** The run/study name, with its validation error under it (`${testId}-error`, described by). */
export function NameField({ label, value, onChange, error, testId }: { label: string; value: string; onChange: (v: string) => void; error?: string; testId: string }) {
  const errorId = `${testId}-error`;
  return (
    <>
      <label className="train__field">
        <span>{label}</span>
        <input type="text" value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={Boolean(error)} aria-describedby={error ? errorId : undefined} data-testid={testId} spellCheck={false} size={34} />
      </label>
      {error && (
        <p className="train__field-error" id={errorId} data-testid={errorId}>
          {error}
        </p>
      )}
    </>
  );
}

/** An optional number (blank: the default), with its validation error under it (`${testId}-error`). */
export function NumberField({
  label,
  value,
  onChange,
  error,
  testId,
  step,
  min,
  placeholder,
  disabled,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  testId: string;
  step: string;
  min: string;
  /** What blank means (the preset's value). */
  placeholder?: string;
  disabled?: boolean;
}) {
  return (
    <div className="train__number">
      <label className="train__field">
        <span>{label}</span>
        <input type="number" value={value} onChange={(e) => onChange(e.target.value)} step={step} min={min} placeholder={placeholder ?? 'default'} disabled={disabled} aria-invalid={Boolean(error)} data-testid={testId} />
      </label>
      {error && (
        <p className="train__field-error" data-testid={`${testId}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** The start button (`${prefix}-start`) and, when starting failed, the API's error (`${prefix}-error`). */
export function StartActions({ prefix, label, failure, form, disabled }: { prefix: string; label: string; failure: string; form: Pick<StartForm<unknown>, 'busy' | 'apiError'>; disabled: boolean }) {
  return (
    <>
      <div className="train__actions">
        <button type="submit" className="primary" disabled={disabled || form.busy} data-testid={`${prefix}-start`}>
          {form.busy ? 'Starting…' : label}
        </button>
      </div>
      {form.apiError && (
        <p className="view__error" role="alert" data-testid={`${prefix}-error`}>
          {failure}: {form.apiError}
        </p>
      )}
    </>
  );
}
