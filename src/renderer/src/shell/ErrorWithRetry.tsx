import type { ReactNode } from 'react';

/** A failed load, said where it happened, with a way to try again. */
export function ErrorWithRetry({ children, onRetry, testId }: { children: ReactNode; onRetry: () => void; testId?: string }) {
  return (
    <p className="view__error" role="alert" data-testid={testId}>
      {children}{' '}
      <button type="button" onClick={onRetry}>
        Retry
      </button>
    </p>
  );
}
