// Web mode's transport without a browser: the event-stream parser, the token's removal from the page
// URL, and the client over a stand-in fetch (headers, one shared stream, reconnection, refusal).
// test/cli/serve.test.ts checks the same wire format against the real server.
import { describe, expect, it } from 'vitest';
import type { WorkbenchApi, WorkbenchEvent } from '../../shared/api';
import { createHttpApi, createSseParser, defaultBackoffMs, takeTokenFromUrl, type SseMessage } from './httpApi';

function parseAll(chunks: string[]): SseMessage[] {
  const out: SseMessage[] = [];
  const p = createSseParser((m) => out.push(m));
  for (const c of chunks) p.push(c);
  return out;
}

describe('createSseParser', () => {
  const stream = ': connected\n\ndata: {"a":1}\n\nevent: menu\ndata: x\ndata:y\n\nid: 7\r\ndata: crlf\r\n\r\ndata: cr\r\rdata\n\n: just a comment\n\n';
  const expected: SseMessage[] = [
    { event: 'message', data: '{"a":1}' },
    { event: 'menu', data: 'x\ny' },
    { event: 'message', data: 'crlf', id: '7' },
    { event: 'message', data: 'cr', id: '7' },
    { event: 'message', data: '', id: '7' },
  ];

  it('reads events, comments, multi-line data and every line ending', () => {
    expect(parseAll([stream])).toEqual(expected);
  });

  it('gives the same events however the body is split into chunks', () => {
    for (let i = 0; i <= stream.length; i++) expect(parseAll([stream.slice(0, i), stream.slice(i)]), `split at ${i}`).toEqual(expected);
    expect(parseAll([...stream])).toEqual(expected);
  });

  it('keeps an unfinished event until its blank line arrives', () => {
    const out: SseMessage[] = [];
    const p = createSseParser((m) => out.push(m));
    p.push('data: half');
    p.push('\n');
    expect(out).toEqual([]);
    p.push('\n');
    expect(out).toEqual([{ event: 'message', data: 'half' }]);
  });
});

describe('takeTokenFromUrl', () => {
  const fakeHistory = () => {
    const calls: string[] = [];
    return { calls, history: { state: { k: 1 }, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void calls.push(String(url)) } };
  };

  it('returns the token and removes it from the address, keeping the rest', () => {
    const h = fakeHistory();
    expect(takeTokenFromUrl({ href: 'http://127.0.0.1:5000/?theme=figure&token=abc123#/weights' }, h.history)).toBe('abc123');
    expect(h.calls).toEqual(['/?theme=figure#/weights']);
    const h2 = fakeHistory();
    expect(takeTokenFromUrl({ href: 'http://127.0.0.1:5000/?token=abc' }, h2.history)).toBe('abc');
    expect(h2.calls).toEqual(['/']);
  });

  it('leaves a URL without a token alone', () => {
    const h = fakeHistory();
    expect(takeTokenFromUrl({ href: 'http://127.0.0.1:5000/?theme=figure' }, h.history)).toBeNull();
    expect(h.calls).toEqual([]);
  });
});

it('backs off exponentially up to 15 s (plus jitter)', () => {
  expect(defaultBackoffMs(0)).toBeGreaterThanOrEqual(500);
  expect(defaultBackoffMs(0)).toBeLessThanOrEqual(625);
  expect(defaultBackoffMs(3)).toBeGreaterThanOrEqual(4000);
  expect(defaultBackoffMs(50)).toBeLessThanOrEqual(15_000 * 1.25);
});

interface Seen {
  url: string;
  init: RequestInit | undefined;
}

/** A text/event-stream Response whose body is `chunks`, then ends (the server going away). */
function sse(chunks: string[], keepOpen = false): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      if (!keepOpen) c.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

/** The client's onEvent (optional in the contract, always there in this transport). */
function onEvent(api: WorkbenchApi): NonNullable<WorkbenchApi['onEvent']> {
  if (!api.onEvent) throw new Error('no onEvent');
  return api.onEvent;
}

const header = (init: RequestInit | undefined, name: string): string | null => new Headers(init?.headers).get(name);

describe('createHttpApi', () => {
  it('calls methods with the token in the Authorization header only, as JSON', async () => {
    const seen: Seen[] = [];
    const api = createHttpApi('tok', 'http://x', {
      fetch: async (url, init) => {
        seen.push({ url: String(url), init });
        return Response.json({ result: [] });
      },
    });
    expect(await api.listRuns()).toEqual([]);
    expect(seen[0].url).toBe('http://x/api/listRuns');
    expect(seen[0].url).not.toContain('tok');
    expect(seen[0].init?.method).toBe('POST');
    expect(header(seen[0].init, 'authorization')).toBe('Bearer tok');
    expect(header(seen[0].init, 'content-type')).toBe('application/json');
  });

  it('reports the server’s message for a refused call', async () => {
    const api = createHttpApi('tok', '', { fetch: async () => Response.json({ error: "no run 'x' in the workspace" }, { status: 404 }) });
    await expect(api.getRun({ id: 'x' })).rejects.toThrow("no run 'x'");
  });

  it('streams events over fetch with the header, and reconnects with backoff when the stream ends', async () => {
    const seen: Seen[] = [];
    const attempts: number[] = [];
    const bodies = [
      () => sse([': connected\n\n', 'data: {"kind":"menu","command":"new-run"}\n', '\n']),
      () => Promise.reject(new TypeError('connection refused')),
      () => sse(['data: {"kind":"workspace-changed","dir":"/w"}\n\n', 'data: not json\n\n', 'event: other\ndata: {}\n\n', 'data: {"kind":"models-changed","id":"m"}\n\n'], true),
    ];
    const api = createHttpApi('tok', '', {
      fetch: async (url, init) => {
        seen.push({ url: String(url), init });
        return bodies[seen.length - 1]();
      },
      backoffMs: (n) => {
        attempts.push(n);
        return 0;
      },
    });
    const got: WorkbenchEvent[] = [];
    let off: () => void = () => undefined;
    await new Promise<void>((resolve) => {
      off = onEvent(api)((e) => {
        got.push(e);
        if (got.length === 3) resolve();
      });
    });
    expect(got.map((e) => e.kind)).toEqual(['menu', 'workspace-changed', 'models-changed']);
    expect(seen.map((s) => s.url)).toEqual(['/api/events', '/api/events', '/api/events']);
    for (const s of seen) expect(header(s.init, 'authorization')).toBe('Bearer tok');
    // The first stream ended after opening (attempt count reset), the second never opened.
    expect(attempts).toEqual([0, 1]);
    const signal = seen[2].init?.signal;
    expect(signal?.aborted).toBe(false);
    off();
    expect(signal?.aborted).toBe(true);
  });

  it('shares one stream between listeners and stops for good on a refusal', async () => {
    let calls = 0;
    const refused = new Promise<string>((resolve) => {
      const api = createHttpApi('wrong', '', {
        fetch: async () => {
          calls++;
          return Response.json({ error: 'missing or wrong token' }, { status: 401 });
        },
        backoffMs: () => 0,
        onStreamError: resolve,
      });
      onEvent(api)(() => undefined);
      onEvent(api)(() => undefined);
    });
    expect(await refused).toBe('missing or wrong token');
    expect(calls).toBe(1);
  });
});
