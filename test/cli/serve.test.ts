import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../../src/shared/api';
import { startWebServer, type WebServer } from '../../src/cli/commands/serve';
import { createWorkbench } from '../../src/core/workbench';

const root = path.resolve(__dirname, '../..');
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-serve-ws-'));
const staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-serve-static-'));
fs.cpSync(path.join(root, 'resources/workspace/world-base'), path.join(workspace, 'world-base'), { recursive: true });
fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>OOCR Workbench</title>');
let srv: WebServer;

function request(pathname: string, opts: { method?: string; body?: unknown; token?: string | null; host?: string } = {}): Promise<{ status: number; json: Record<string, unknown> | null; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: opts.host ?? `127.0.0.1:${srv.port}`, 'content-type': 'application/json' };
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
    if (opts.body !== undefined) req.write(JSON.stringify(opts.body));
    req.end();
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
      [{ kind: 'attention', id: 'no-such-run' }, "no run 'no-such-run'"],
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
    expect((await request('/api/getRun', { body: { args: { id: 'no-such-run' } } })).status).toBe(400);
  });

  it('survives malformed URL escapes (one bad request must not end the server)', async () => {
    for (const p of ['/%', '/%E0%A4%A', '/assets/%zz']) expect((await request(p, { method: 'GET', token: null })).status).toBe(400);
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
    const notJson = await new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/api/listRuns', method: 'POST', headers: { host: `127.0.0.1:${srv.port}`, authorization: `Bearer ${srv.token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.end('{oops');
    });
    expect(notJson).toBe(400);
  });

  it('trains from the API and streams progress as server-sent events', async () => {
    const events: WorkbenchEvent[] = [];
    const finished = new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: srv.port, path: `/api/events?token=${srv.token}`, headers: { host: `127.0.0.1:${srv.port}` } }, (res) => {
        let buf = '';
        res.on('data', (d) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const chunk = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (chunk.startsWith('data: ')) {
              const e = JSON.parse(chunk.slice(6)) as WorkbenchEvent;
              events.push(e);
              if (e.kind === 'finished' || e.kind === 'failed') {
                req.destroy();
                resolve();
              }
            }
          }
        });
      });
    });
    await new Promise((r) => setTimeout(r, 100));
    const start = await request('/api/startTraining', { body: { args: { preset: 'ocr-factorized', name: 'api-run', overrides: { steps: 60, seed: 1 } } } });
    expect(start.status, start.text).toBe(200);
    await finished;
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
