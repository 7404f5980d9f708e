import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../../src/shared/api';
import { startWebServer, type WebServer } from '../../src/cli/commands/serve';
import { createWorkbench, type Workbench } from '../../src/core/workbench';

const root = path.resolve(__dirname, '../..');
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-serve-ws-'));
const staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-serve-static-'));
fs.cpSync(path.join(root, 'resources/workspace/world-base'), path.join(workspace, 'world-base'), { recursive: true });
fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>OOCR Workbench</title>');
let srv: WebServer;

interface RequestOpts {
  method?: string;
  /** A JSON body, or a raw string sent as is. */
  body?: unknown;
  token?: string | null;
  host?: string;
  /** Content-Type; null sends none. Default application/json. */
  contentType?: string | null;
  headers?: Record<string, string>;
}

function request(pathname: string, opts: RequestOpts = {}): Promise<{ status: number; json: Record<string, unknown> | null; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: opts.host ?? `127.0.0.1:${srv.port}`, ...opts.headers };
    if (opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? srv.token}`;
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: pathname, method: opts.method ?? 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json, text, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    req.end();
  });
}

/**
 * Opens GET /api/events with `headers` and collects its events until `until` says stop; resolves with
 * them (or with the refusal's status).
 */
function readEvents(headers: Record<string, string>, until: (e: WorkbenchEvent) => boolean, opened?: () => void, target = '/api/events'): Promise<{ status: number; events: WorkbenchEvent[]; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const events: WorkbenchEvent[] = [];
    const req = http.get({ host: '127.0.0.1', port: srv.port, path: target, headers: { host: `127.0.0.1:${srv.port}`, ...headers } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve({ status: res.statusCode ?? 0, events, headers: res.headers });
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (chunk === ': connected') opened?.();
          if (!chunk.startsWith('data: ')) continue;
          const e = JSON.parse(chunk.slice(6)) as WorkbenchEvent;
          events.push(e);
          if (until(e)) {
            req.destroy();
            resolve({ status: 200, events, headers: res.headers });
          }
        }
      });
    });
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
  });
}

beforeAll(async () => {
  srv = await startWebServer(createWorkbench({ workspaceDir: workspace }), { staticDir });
});
afterAll(async () => {
  await srv.close();
});

describe('web mode server', () => {
  it('binds loopback only and prints a tokenised URL', () => {
    expect(srv.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${srv.port}/\\?token=[0-9a-f]{48}$`));
  });

  it('refuses API calls without the token or with a foreign Host header', async () => {
    expect((await request('/api/listRuns', { token: null })).status).toBe(401);
    expect((await request('/api/listRuns', { token: 'wrong' })).status).toBe(401);
    expect((await request('/api/listRuns', { host: 'evil.example:80' })).status).toBe(421);
  });

  it('answers user mistakes with 400 and the message, never 500', async () => {
    const cases: [unknown, string][] = [
      [{ kind: 'attention', id: 'world-base', prompt: 'city_99 end' }, "unknown token 'city_99'"],
      [{ kind: 'attention', id: 'world-base', step: 7 }, 'no checkpoint at step 7'],
      [{ kind: 'attention', id: 'world-base', layers: [5] }, 'layer 5 outside 0..1'],
      [{ kind: 'projection', id: 'world-base', source: 'blocks.0.hook_nope' }, 'TransformerLens hook name'],
      [{ kind: 'projection', id: 'world-base', source: 'blocks.7.hook_resid_post' }, 'outside the model'],
      [{ kind: 'logit-lens', id: 'world-base', answer: 'dragon' }, "unknown token 'dragon'"],
      [{ kind: 'logit-lens', id: 'world-base', position: 40 }, 'position 40 outside'],
      [{ kind: 'patching', id: 'world-base', corrupt: 'noise_0 end' }, 'same length'],
    ];
    for (const [args, message] of cases) {
      const r = await request('/api/analyze', { body: { args } });
      expect(r.status, JSON.stringify(args)).toBe(400);
      expect(String(r.json?.error)).toContain(message);
    }
  });

  it('answers a run, model or adapter that does not exist with 404 and the message', async () => {
    for (const [path, args, message] of [
      ['/api/getRun', { id: 'no-such-run' }, "no run 'no-such-run'"],
      ['/api/samplePrompts', { id: 'no-such-run' }, "no run 'no-such-run'"],
      ['/api/analyze', { kind: 'attention', id: 'no-such-run' }, "no run 'no-such-run'"],
      ['/api/analyze', { kind: 'attention', id: 'world-base', adapter: 'no-such-adapter' }, "no adapter 'no-such-adapter'"],
    ] as const) {
      const r = await request(path, { body: { args } });
      expect(r.status, `${path} ${JSON.stringify(args)}: ${r.text}`).toBe(404);
      expect(String(r.json?.error)).toContain(message);
    }
  });

  it('answers failures that are not the caller’s with 500, logged to stderr with the stack', async () => {
    const lines: string[] = [];
    // A workbench whose every call hits a bug (a TypeError, not an ApiArgumentError).
    const real = createWorkbench({ workspaceDir: workspace });
    const buggy: Workbench = {
      ...real,
      call: async () => {
        throw new TypeError('boom: a bug');
      },
    };
    const broken = await startWebServer(buggy, { staticDir, log: (l) => lines.push(l) });
    try {
      const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: broken.port, path: '/api/listRuns', method: 'POST', headers: { host: `127.0.0.1:${broken.port}`, authorization: `Bearer ${broken.token}`, 'content-type': 'application/json' } },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
      expect(r.status).toBe(500);
      expect(r.text).toContain('boom: a bug');
      expect(lines.join('\n')).toMatch(/listRuns failed: TypeError: boom: a bug\n\s+at /);
    } finally {
      await broken.close();
    }
  });

  it('survives malformed URLs with 400 (one bad request must not end the server)', async () => {
    for (const p of ['/%', '/%E0%A4%A', '/assets/%zz', '/a%00b', '//evil.example/x']) expect((await request(p, { method: 'GET', token: null })).status, p).toBe(400);
    for (const p of ['/api/%', '/api/%E0%A4%A', '/api/list%00Runs']) expect((await request(p)).status, p).toBe(400);
    expect((await request('/api/listRuns')).status).toBe(200);
  });

  it('lists runs and reads one; validates every argument', async () => {
    const list = await request('/api/listRuns');
    expect(list.status).toBe(200);
    expect(list.json?.result).toEqual([expect.objectContaining({ id: 'world-base', status: 'completed', task: 'world' })]);
    const run = await request('/api/getRun', { body: { args: { id: 'world-base' } } });
    expect((run.json?.result as { metrics: unknown[] }).metrics.length).toBeGreaterThan(3);
    for (const bad of [{ id: '../etc' }, { id: 'a/../../b' }, { id: 5 }, { id: 'x', extra: 1 }]) {
      const r = await request('/api/getRun', { body: { args: bad } });
      expect(r.status).toBe(400);
      expect(String(r.json?.error)).toContain('getRun: invalid arguments');
    }
    expect((await request('/api/nope', { body: {} })).status).toBe(400);
    expect((await request('/api/listRuns', { method: 'GET' })).status).toBe(405);
    expect((await request('/api/listRuns', { body: '{oops' })).status).toBe(400);
    expect((await request('/api/listRuns', { body: '[1]' })).status).toBe(400);
    expect((await request('/api/getRun', { body: 'null' })).status).toBe(400);
  });

  it('trains from the API and streams progress as server-sent events', async () => {
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const stream = readEvents({ authorization: `Bearer ${srv.token}` }, (e) => e.kind === 'finished' || e.kind === 'failed', opened);
    await open;
    const start = await request('/api/startTraining', { body: { args: { preset: 'ocr-factorized', name: 'api-run', overrides: { steps: 60, seed: 1 } } } });
    expect(start.status, start.text).toBe(200);
    const { status, events, headers } = await stream;
    expect(status).toBe(200);
    expect(headers['content-type']).toMatch(/^text\/event-stream/);
    expect(headers['referrer-policy']).toBe('no-referrer');
    const progress = events.filter((e) => e.kind === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ kind: 'finished', status: 'completed', runId: 'api-run' });
    const again = await request('/api/startTraining', { body: { args: { preset: 'ocr-factorized', name: 'api-run' } } });
    expect(again.status).toBe(400);
    expect(String(again.json?.error)).toContain('already exists');
    const list = (await request('/api/listRuns')).json?.result as { id: string; status: string }[];
    expect(list.find((r) => r.id === 'api-run')?.status).toBe('completed');
    expect((await request('/api/cancel', { body: { args: { jobId: 'none' } } })).json?.result).toEqual({ cancelled: false });
  });

  it('serves the built renderer with a strict CSP and never files outside it', async () => {
    const page = await request('/', { method: 'GET', token: null });
    expect(page.status).toBe(200);
    expect(page.text).toContain('OOCR Workbench');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await request('/../../etc/passwd', { method: 'GET', token: null })).status).toBe(404);
  });
});

describe('web mode refuses cross-site requests', () => {
  const evilArgs = (name: string) => ({ args: { preset: 'ocr-factorized', name, overrides: { steps: 5 } } });
  const started = (name: string) => fs.existsSync(path.join(workspace, name));

  it('refuses a cross-site form post (Origin elsewhere, text/plain, token in the query) and starts nothing', async () => {
    // What <form method=post enctype=text/plain action="http://127.0.0.1:PORT/api/startTraining?token=…"> sends.
    const r = await request(`/api/startTraining?token=${srv.token}`, {
      token: null,
      contentType: 'text/plain',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      body: `${JSON.stringify(evilArgs('evil-form')).slice(0, -1)}, "x": "=1"}`,
    });
    expect(r.status).toBe(403);
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(started('evil-form')).toBe(false);
  });

  it('refuses a foreign Origin even with the right token and a JSON body', async () => {
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${srv.port + 1}`, `https://127.0.0.1:${srv.port}`, `http://evil.example:${srv.port}`]) {
      const r = await request('/api/startTraining', { headers: { origin }, body: evilArgs('evil-origin') });
      expect(r.status, origin).toBe(403);
    }
    // Fetch Metadata alone (a browser that sends no Origin) is enough to refuse.
    for (const site of ['cross-site', 'same-site']) expect((await request('/api/listRuns', { headers: { 'sec-fetch-site': site } })).status, site).toBe(403);
    // Preflights from other origins fail too, so a cross-site fetch with the header cannot be sent.
    expect((await request('/api/startTraining', { method: 'OPTIONS', token: null, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })).status).toBe(403);
    expect(started('evil-origin')).toBe(false);
  });

  it('accepts the page’s own origin, on 127.0.0.1 and on localhost', async () => {
    for (const origin of [`http://127.0.0.1:${srv.port}`, `http://localhost:${srv.port}`]) {
      const r = await request('/api/listRuns', { headers: { origin, 'sec-fetch-site': 'same-origin' } });
      expect(r.status, origin).toBe(200);
    }
  });

  it('takes the token from the Authorization header only: ?token= is refused on every API call', async () => {
    const post = await request(`/api/startTraining?token=${srv.token}`, { token: null, body: evilArgs('evil-query') });
    expect(post.status).toBe(400);
    expect(String(post.json?.error)).toContain('Authorization');
    // Even beside the right header, so the token never sits in a URL.
    expect((await request(`/api/startTraining?token=${srv.token}`, { body: evilArgs('evil-query') })).status).toBe(400);
    expect((await readEvents({}, () => true, undefined, `/api/events?token=${srv.token}`)).status).toBe(400);
    expect((await readEvents({ authorization: `Bearer ${srv.token}` }, () => true, undefined, `/api/events?token=${srv.token}`)).status).toBe(400);
    expect((await readEvents({}, () => true)).status).toBe(401);
    expect(started('evil-query')).toBe(false);
  });

  it('requires Content-Type: application/json on POST (415)', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null]) {
      const r = await request('/api/startTraining', { contentType, body: evilArgs('evil-type') });
      expect(r.status, String(contentType)).toBe(415);
    }
    expect((await request('/api/listRuns', { contentType: 'application/json; charset=utf-8' })).status).toBe(200);
    expect(started('evil-type')).toBe(false);
  });

  it('sends Referrer-Policy: no-referrer (and the CSP) on every response', async () => {
    const responses = [
      await request('/', { method: 'GET', token: null }),
      await request('/nope.js', { method: 'GET', token: null }),
      await request('/%', { method: 'GET', token: null }),
      await request('/api/listRuns'),
      await request('/api/listRuns', { token: null }),
      await request('/api/listRuns', { host: 'evil.example' }),
      await request('/api/getRun', { body: { args: { id: 'no-such-run' } } }),
    ];
    for (const r of responses) {
      expect(r.headers['referrer-policy'], `${r.status}`).toBe('no-referrer');
      expect(r.headers['content-security-policy'], `${r.status}`).toContain("frame-ancestors 'none'");
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});

describe('oocr serve (CLI)', () => {
  it('prints exactly one line "Workbench at http://127.0.0.1:PORT/?token=…"', async () => {
    const p = spawn(process.execPath, [path.join(root, 'bin/oocr.mjs'), 'serve', '--workspace', workspace], { cwd: root });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      p.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    p.kill('SIGTERM');
    expect(line).toMatch(/^Workbench at http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
  });

  it('refuses a workspace that does not exist', async () => {
    const p = spawn(process.execPath, [path.join(root, 'bin/oocr.mjs'), 'serve', '--workspace', path.join(workspace, 'nope')], { cwd: root });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => p.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('is not a folder');
  });
});
