import { useEffect, useState } from 'react';
import type { WorkbenchApi } from '../../shared/api';
import type { BackendInfo } from '../../shared/backend';
import { resolveApi } from './httpApi';

type BackendState =
  | { status: 'loading' }
  | { status: 'ready'; info: BackendInfo }
  | { status: 'error'; message: string };

/** The preload's API (Electron) or the HTTP client (web mode), or undefined without either. */
function getApi(): WorkbenchApi | undefined {
  return resolveApi();
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function useBackendInfo(): BackendState {
  const [state, setState] = useState<BackendState>({ status: 'loading' });
  useEffect(() => {
    let live = true;
    const api = getApi();
    if (!api) {
      setState({
        status: 'error',
        message: 'The workbench API is not available: no preload (Electron) and no ?token= in the URL (web mode: open the URL that `oocr serve` prints).',
      });
      return;
    }
    api.getBackendInfo().then(
      (info) => live && setState({ status: 'ready', info }),
      (err: unknown) => live && setState({ status: 'error', message: errorMessage(err) }),
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}

function StatusBar({ state }: { state: BackendState }) {
  if (state.status === 'loading') {
    return (
      <footer className="status-bar" role="status">
        Backend: starting…
      </footer>
    );
  }
  if (state.status === 'error') {
    return (
      <footer className="status-bar status-bar--error" role="alert">
        Backend unavailable: {state.message}
      </footer>
    );
  }
  const { info } = state;
  return (
    <footer className="status-bar" role="status">
      <span>
        Backend: <strong data-testid="backend-name">{info.name}</strong>
      </span>
      <span>tfjs {info.tfjsVersion}</span>
      {info.threads !== undefined && <span>{info.threads} threads</span>}
      {info.tried.length > 0 && (
        <span className="status-bar__fallbacks">
          Fell back from:{' '}
          {info.tried.map((t) => (
            <span key={t.name} className="status-bar__fallback" title={t.error}>
              {t.name} ({t.error})
            </span>
          ))}
        </span>
      )}
    </footer>
  );
}

export function App() {
  const backend = useBackendInfo();
  return (
    <div className="app">
      <header className="app__header">
        <h1>OOCR Workbench</h1>
      </header>
      <main className="app__main">
        <p>Interpretability of out-of-context reasoning in small transformers. Views are coming.</p>
      </main>
      <StatusBar state={backend} />
    </div>
  );
}
