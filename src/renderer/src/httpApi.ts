import { IPC_CHANNELS, type WorkbenchApi, type WorkbenchEvent, type WorkbenchMethod } from '../../shared/api';

/**
 * WorkbenchApi over web mode's loopback HTTP server (`oocr serve`): the same contract the preload
 * exposes in Electron. The token arrives in the page URL (?token=…) and goes in every request.
 */
export function createHttpApi(token: string, base = ''): WorkbenchApi {
  const call = async <T>(method: WorkbenchMethod, args?: unknown): Promise<T> => {
    const res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ args }),
    });
    const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as { result?: T; error?: string };
    if (!res.ok || body.error !== undefined) throw new Error(body.error ?? `HTTP ${res.status}`);
    return body.result as T;
  };
  // One entry per method of the contract: IPC_CHANNELS lists them all (the compiler checks that).
  const methods = Object.fromEntries((Object.keys(IPC_CHANNELS) as WorkbenchMethod[]).map((m) => [m, (args?: unknown) => call(m, args)]));
  return {
    ...(methods as unknown as Omit<WorkbenchApi, 'onEvent'>),
    onEvent: (listener) => {
      const source = new EventSource(`${base}/api/events?token=${encodeURIComponent(token)}`);
      source.onmessage = (m) => listener(JSON.parse(m.data as string) as WorkbenchEvent);
      return () => source.close();
    },
  };
}

/** The preload's API in Electron; the HTTP client in web mode; undefined when neither is there. */
export function resolveApi(): WorkbenchApi | undefined {
  const w = window as Window & { workbench?: WorkbenchApi };
  if (w.workbench) return w.workbench;
  const token = new URLSearchParams(w.location.search).get('token');
  return token ? createHttpApi(token) : undefined;
}
