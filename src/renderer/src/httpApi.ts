import { IPC_CHANNELS, type WorkbenchApi, type WorkbenchEvent, type WorkbenchMethod } from '../../shared/api';

/**
 * WorkbenchApi over web mode's loopback HTTP server (`oocr serve`): the same contract the preload
 * exposes in Electron. The token arrives once in the page URL (?token=…, as `oocr serve` prints it);
 * resolveApi moves it into memory and out of the address bar, and from then on it travels only in the
 * `Authorization: Bearer` header, never in a URL (docs/security.md#web-mode).
 */

/** One server-sent event: its `event` name (default 'message') and its data lines joined by "\n". */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/**
 * An incremental text/event-stream parser (the HTML spec's rules, without `retry`): feed it the body
 * as it arrives, in chunks split anywhere; it calls `onMessage` for each complete event. Lines end in
 * \n, \r\n or \r; `:` lines are comments; an event without data lines is dropped.
 */
export function createSseParser(onMessage: (m: SseMessage) => void): { push(chunk: string): void } {
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  /** A chunk ended in \r: a \n that starts the next one belongs to the same line end. */
  let pendingCr = false;
  const line = (l: string): void => {
    if (l === '') {
      if (data.length > 0) onMessage({ event: event || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
      data = [];
      event = '';
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  };
  return {
    push(chunk: string) {
      if (chunk === '') return;
      if (pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
      pendingCr = false;
      buffer += chunk;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== '\n' && c !== '\r') continue;
        line(buffer.slice(start, i));
        if (c === '\r') {
          if (i + 1 < buffer.length) {
            if (buffer[i + 1] === '\n') i++;
          } else pendingCr = true;
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
  };
}

export interface HttpApiOptions {
  /** The fetch to use (tests pass their own); default the page's. */
  fetch?: typeof fetch;
  /** Milliseconds to wait before reconnection attempt `n` (0, 1, …) of the event stream. */
  backoffMs?: (attempt: number) => number;
  /** Hears why the event stream stopped for good (a refusal such as a wrong token). */
  onStreamError?: (message: string) => void;
}

/** 0.5 s, 1 s, 2 s, … up to 15 s, with up to 25 % jitter so that many tabs do not reconnect in step. */
export function defaultBackoffMs(attempt: number): number {
  const base = Math.min(15_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (1 + Math.random() * 0.25));
}

export function createHttpApi(token: string, base = '', opts: HttpApiOptions = {}): WorkbenchApi {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const backoffMs = opts.backoffMs ?? defaultBackoffMs;
  const authorization = `Bearer ${token}`;
  const call = async <T>(method: WorkbenchMethod, args?: unknown): Promise<T> => {
    const res = await doFetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ args }),
      cache: 'no-store',
      credentials: 'omit',
    });
    const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as { result?: T; error?: string };
    if (!res.ok || body.error !== undefined) throw new Error(body.error ?? `HTTP ${res.status}`);
    return body.result as T;
  };

  // One event stream for all listeners: opened with the first, closed after the last leaves.
  const listeners = new Set<(e: WorkbenchEvent) => void>();
  let stream: { stop(): void } | null = null;
  const dispatch = (m: SseMessage): void => {
    if (m.event !== 'message') return;
    let e: WorkbenchEvent;
    try {
      e = JSON.parse(m.data) as WorkbenchEvent;
    } catch {
      return;
    }
    for (const l of [...listeners]) l(e);
  };
  /**
   * GET /api/events with the token in its header (EventSource cannot send one), read as a stream;
   * when it ends or fails, reconnect after backoffMs(attempt), the attempt count reset by each stream
   * that opens. A 4xx answer (wrong token, refused origin) is final: retrying cannot fix it.
   */
  const openStream = (): { stop(): void } => {
    let stopped = false;
    let controller: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, ms);
      });
    void (async () => {
      for (let attempt = 0; !stopped; ) {
        controller = new AbortController();
        try {
          const res = await doFetch(`${base}/api/events`, {
            headers: { authorization, accept: 'text/event-stream' },
            cache: 'no-store',
            credentials: 'omit',
            signal: controller.signal,
          });
          if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
            const body = (await res.json().catch(() => ({}))) as { error?: string };
            opts.onStreamError?.(body.error ?? `HTTP ${res.status}`);
            return;
          }
          if (res.ok && res.body) {
            attempt = 0;
            const parser = createSseParser(dispatch);
            const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
            for (;;) {
              const { value, done } = await reader.read();
              if (done || stopped) break;
              parser.push(value);
            }
          }
        } catch {
          // A dropped connection, a server that went away, or our own abort: reconnect unless stopped.
        }
        if (stopped) return;
        await sleep(backoffMs(attempt++));
      }
    })();
    return {
      stop() {
        stopped = true;
        controller?.abort();
        clearTimeout(timer);
        wake?.();
      },
    };
  };

  // One entry per method of the contract: IPC_CHANNELS lists them all (the compiler checks that).
  const methods = Object.fromEntries((Object.keys(IPC_CHANNELS) as WorkbenchMethod[]).map((m) => [m, (args?: unknown) => call(m, args)]));
  return {
    ...(methods as unknown as Omit<WorkbenchApi, 'onEvent'>),
    onEvent: (listener) => {
      const l = (e: WorkbenchEvent): void => listener(e);
      listeners.add(l);
      stream ??= openStream();
      return () => {
        listeners.delete(l);
        if (listeners.size === 0 && stream) {
          stream.stop();
          stream = null;
        }
      };
    },
  };
}

/** The token, once read from the page URL; kept here (memory only) for the page's lifetime. */
let pageToken: string | null = null;

/**
 * Takes `?token=` out of the page's URL: returns it, and replaces the address (history.replaceState,
 * so neither the address bar, nor the history entry, nor a Referer keeps it) with the same URL
 * without it; other parameters and the #fragment stay. Null when the URL has none.
 */
export function takeTokenFromUrl(loc: Pick<Location, 'href'>, history: Pick<History, 'replaceState' | 'state'>): string | null {
  const url = new URL(loc.href);
  const token = url.searchParams.get('token');
  if (token === null) return null;
  url.searchParams.delete('token');
  history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
  return token || null;
}

/** The preload's API in Electron; the HTTP client in web mode; undefined when neither is there. */
export function resolveApi(): WorkbenchApi | undefined {
  const w = window as Window & { workbench?: WorkbenchApi };
  if (w.workbench) return w.workbench;
  pageToken ??= takeTokenFromUrl(w.location, w.history);
  return pageToken ? createHttpApi(pageToken) : undefined;
}
