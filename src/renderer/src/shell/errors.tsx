import { createContext, useCallback, useContext, useState, type ReactNode } from 'react';

export interface ReportedError {
  id: number;
  context: string;
  message: string;
}

type Report = (err: unknown, context?: string) => void;

const ReportContext = createContext<Report>(() => {});

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Where failures go: every caught error ends up in the banner, never silently dropped. */
export function useReportError(): Report {
  return useContext(ReportContext);
}

let nextId = 1;

export function ErrorProvider({ children }: { children: ReactNode }) {
  const [errors, setErrors] = useState<ReportedError[]>([]);
  const report = useCallback<Report>((err, context = 'Error') => {
    const message = errorMessage(err);
    console.error(`${context}: ${message}`);
    setErrors((es) => [...es.slice(-4), { id: nextId++, context, message }]);
  }, []);
  return (
    <ReportContext.Provider value={report}>
      {errors.length > 0 && (
        <div className="error-banner" role="alert" data-testid="error-banner">
          {errors.map((e) => (
            <div key={e.id} className="error-banner__item">
              <strong>{e.context}:</strong> {e.message}
              <button type="button" aria-label="Dismiss" onClick={() => setErrors((es) => es.filter((x) => x.id !== e.id))}>
                ×
              </button>
            </div>
          ))}
        </div>
      )}
      {children}
    </ReportContext.Provider>
  );
}
