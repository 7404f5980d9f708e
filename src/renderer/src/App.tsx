import { useCallback, useEffect, useMemo, useState } from 'react';
import type { WorkbenchApi, WorkbenchEvent } from '../../shared/api';
import type { BackendInfo } from '../../shared/backend';
import { FIGURE_THEME, SCREEN_THEME, ThemeContext } from './figure/theme';
import { resolveApi } from './httpApi';
import { ApiContext } from './shell/api';
import { ErrorProvider, errorMessage, useReportError } from './shell/errors';
import { JobsProvider, useJobs } from './shell/jobs';
import { NavigateContext } from './shell/navigation';
import { WorkspaceProvider } from './shell/workspace';
import { VIEWS } from './views';

type BackendState = { status: 'loading' } | { status: 'ready'; info: BackendInfo } | { status: 'error'; message: string };

function useBackendInfo(api: WorkbenchApi): BackendState {
  const [state, setState] = useState<BackendState>({ status: 'loading' });
  useEffect(() => {
    let live = true;
    api.getBackendInfo().then(
      (info) => live && setState({ status: 'ready', info }),
      (err: unknown) => live && setState({ status: 'error', message: errorMessage(err) }),
    );
    return () => {
      live = false;
    };
  }, [api]);
  return state;
}

function StatusBar({ api }: { api: WorkbenchApi }) {
  const state = useBackendInfo(api);
  const { jobs, loading, sweeps } = useJobs();
  const sweepsRunning = Object.values(sweeps).filter((st) => st === 'running').length;
  const running = jobs.filter((j) => j.status === 'running');
  const queued = jobs.filter((j) => j.status === 'queued');
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
      {info.threads !== undefined && <span>{info.threads === 1 ? '1 thread' : `${info.threads} threads`}</span>}
      {info.tried.length > 0 && (
        // The reasons are long (module paths); they sit in the tooltip.
        <span className="status-bar__fallbacks" title={info.tried.map((t) => `${t.name}: ${t.error}`).join('\n')}>
          Fell back from:{' '}
          {info.tried.map((t) => (
            <span key={t.name} className="status-bar__fallback">
              {t.name}
            </span>
          ))}{' '}
          (hover for why)
        </span>
      )}
      {running.length > 0 && <span data-testid="jobs-running">{running.length} job(s) running</span>}
      {queued.length > 0 && <span data-testid="jobs-queued">{queued.length} queued</span>}
      {sweepsRunning > 0 && <span data-testid="sweeps-running">{sweepsRunning} sweep{sweepsRunning > 1 ? 's' : ''} running</span>}
      {loading.map((l) => (
        <span key={l.key} className="status-bar__loading" data-testid="model-loading">
          <progress max={100} value={l.percent} aria-label={`Loading ${l.key}`} /> {l.text}
        </span>
      ))}
    </footer>
  );
}

function viewFromHash(): string {
  const id = window.location.hash.replace(/^#\/?/, '');
  return VIEWS.some((v) => v.id === id) ? id : 'runs';
}

function Shell({ api, figureTheme, setFigureTheme }: { api: WorkbenchApi; figureTheme: boolean; setFigureTheme: (f: boolean) => void }) {
  const [viewId, setViewId] = useState(viewFromHash);
  const report = useReportError();
  useEffect(() => {
    const onHash = () => setViewId(viewFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const navigate = useCallback((id: string) => {
    window.location.hash = `#/${id}`;
    setViewId(id);
  }, []);
  const onMenu = useCallback(
    (e: WorkbenchEvent) => {
      if (e.kind === 'menu') {
        if (e.command === 'new-run') navigate('train');
        else if (e.command === 'toggle-figure-theme') setFigureTheme(!figureTheme);
        else if (e.command === 'export-screenshot-failed') report(new Error('the window screenshot could not be saved'), 'Export screenshot');
      }
      // File → Open Model… added a model: show it where models are listed.
      if (e.kind === 'models-changed') navigate('runs');
    },
    [navigate, figureTheme, setFigureTheme, report],
  );
  const View = (VIEWS.find((v) => v.id === viewId) ?? VIEWS[0]).component;
  return (
    <NavigateContext.Provider value={navigate}>
      <JobsProvider onMenu={onMenu}>
        <WorkspaceProvider>
          <div className={`app ${figureTheme ? 'app--figure' : ''}`}>
            <header className="app__header">
              <h1>OOCR Workbench</h1>
              <nav className="app__nav" aria-label="Views">
                {VIEWS.map((v) => (
                  <a key={v.id} href={`#/${v.id}`} className={v.id === viewId ? 'active' : undefined} aria-current={v.id === viewId ? 'page' : undefined} onClick={(e) => (e.preventDefault(), navigate(v.id))}>
                    {v.name}
                  </a>
                ))}
              </nav>
              <label className="app__theme" title="Light figure theme with larger type, for screenshots and papers">
                <input type="checkbox" checked={figureTheme} onChange={(e) => setFigureTheme(e.target.checked)} data-testid="figure-theme" /> Figure theme
              </label>
            </header>
            <main className="app__main" data-view={viewId}>
              <View />
            </main>
            <StatusBar api={api} />
          </div>
        </WorkspaceProvider>
      </JobsProvider>
    </NavigateContext.Provider>
  );
}

export function App() {
  const api = useMemo(() => resolveApi(), []);
  const [figureTheme, setFigureTheme] = useState(() => new URLSearchParams(window.location.search).get('theme') === 'figure');
  if (!api) {
    return (
      <div className="app">
        <p className="status-bar--error" role="alert">
          The workbench API is not available: no preload (Electron) and no ?token= in the URL (web mode: open the URL that `oocr serve` prints).
        </p>
      </div>
    );
  }
  return (
    <ApiContext.Provider value={api}>
      <ThemeContext.Provider value={figureTheme ? FIGURE_THEME : SCREEN_THEME}>
        <ErrorProvider>
          <Shell api={api} figureTheme={figureTheme} setFigureTheme={setFigureTheme} />
        </ErrorProvider>
      </ThemeContext.Provider>
    </ApiContext.Provider>
  );
}
