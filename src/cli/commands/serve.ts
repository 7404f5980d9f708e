import { seedWorkspace } from '../../core/io/seedWorkspace';
import type { Command } from 'commander';
import { Option } from 'commander';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_ORDER, type BackendName } from '../../shared/backend';
import { ZodError } from 'zod';
import { ApiArgumentError, createWorkbench, type Workbench } from '../../core/workbench';
import { fail } from '../fail';
import { parseInteger, RANGES } from '../overrides';

/** The example workspace shipped with the sources. */
export const EXAMPLE_WORKSPACE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/workspace');

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const MAX_BODY = 1 << 20;
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.woff2': 'font/woff2' };
/** Sent on every response, API and static alike. */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CSP,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};
/** A comment line on the event stream this often keeps idle proxies and dead-peer detection honest. */
const SSE_KEEPALIVE_MS = 25_000;

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(shutdownMs?: number): Promise<void>;
}

export interface WebServerOptions {
  port?: number;
  staticDir?: string;
  token?: string;
  /** Where unexpected failures (HTTP 500) are logged with their stack; default stderr. */
  log?: (line: string) => void;
}

/**
 * The HTTP status for an error thrown by a workbench call: the caller's mistakes are 4xx (an unknown
 * run or adapter 404; a bad argument, a zod failure or any ApiArgumentError 400; an error that carries
 * its own 4xx `status`, 4xx), everything else 500, a bug to be logged.
 */
export function statusForError(err: unknown): number {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500) return status;
  const name = err instanceof Error ? err.name : '';
  if (name === 'ApiNotFoundError') return 404;
  if (err instanceof ApiArgumentError) {
    // core names what it cannot find in these words (workbench.ts existingRun / existingAdapter).
    return /^no (run|adapter) '/.test(err.message) ? 404 : 400;
  }
  if (err instanceof ZodError || name === 'ZodError') return 400;
  return 500;
}

/**
 * Web mode: the WorkbenchApi over loopback HTTP (POST /api/<method>, JSON) with server-sent events for
 * progress (GET /api/events), and the built renderer as static files. Binds 127.0.0.1 only. Every
 * /api request must: name this server in Host (127.0.0.1:PORT or localhost:PORT; stops DNS
 * rebinding), carry no foreign Origin (403; stops cross-site requests from pages in the user's
 * browser), carry the random token in `Authorization: Bearer` and nowhere else (a `?token=` is
 * refused, 400, so it never sits in URLs, logs or Referer headers), and POST with
 * `Content-Type: application/json` (415; an HTML form cannot send that). docs/security.md#web-mode.
 */
export async function startWebServer(wb: Workbench, opts: WebServerOptions = {}): Promise<WebServer> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const staticDir = path.resolve(opts.staticDir ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../out/renderer'));
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let port = 0;
  const expected = Buffer.from(token);
  const authorised = (req: http.IncomingMessage): boolean => {
    const m = /^Bearer ([^\s]+)$/i.exec((req.headers.authorization ?? '').trim());
    const given = Buffer.from(m?.[1] ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  /** The page's own origins: a request from anything else (another site, a file, a sandbox) is cross-site. */
  const sameOrigin = (req: http.IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) return false;
    // Browsers that send Fetch Metadata say outright where a request comes from.
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  };
  const events = new Set<http.ServerResponse>();

  const api = (req: http.IncomingMessage, res: http.ServerResponse, url: URL): void => {
    if (!sameOrigin(req)) return send(res, 403, { error: 'cross-origin request refused' });
    if (url.searchParams.has('token')) return send(res, 400, { error: 'the token goes in the Authorization header (Bearer), never in the URL' });
    if (!authorised(req)) return send(res, 401, { error: 'missing or wrong token' }, { 'www-authenticate': 'Bearer' });
    if (url.pathname === '/api/events') {
      if (req.method !== 'GET') return send(res, 405, { error: 'use GET' }, { allow: 'GET' });
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(': connected\n\n');
      events.add(res);
      const off = wb.subscribe((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
      keepalive.unref();
      res.on('close', () => {
        off();
        clearInterval(keepalive);
        events.delete(res);
      });
      return;
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' }, { allow: 'POST' });
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') return send(res, 415, { error: 'Content-Type must be application/json' });
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) {
      send(res, 413, { error: 'request body too large' });
      req.destroy();
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        send(res, 413, { error: 'request body too large' });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      let args: unknown;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() !== '') {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return send(res, 400, { error: 'body is not JSON' });
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) return send(res, 400, { error: 'body must be a JSON object { "args": … }' });
        args = (body as { args?: unknown }).args;
      }
      // A caller that goes away before its answer abandons the call (an analysis stops waiting).
      const abandoned = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abandoned.abort();
      });
      let result: Promise<unknown>;
      try {
        result = wb.call(method, args, { signal: abandoned.signal });
      } catch (err) {
        result = Promise.reject(err);
      }
      result.then(
        (value) => send(res, 200, { result: value }),
        (err: unknown) => {
          const status = statusForError(err);
          const message = err instanceof Error ? err.message : String(err);
          if (status >= 500) log(`oocr serve: /api/${method} failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
          send(res, status, { error: message });
        },
      );
    });
  };

  const staticFile = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' });
    const rel = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
    const file = path.resolve(staticDir, rel);
    if (!file.startsWith(staticDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end(`The renderer is not built (${staticDir}); run \`npm run build\` first.\n`);
      }
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end('not found\n');
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const server = http.createServer((req, res) => {
    for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value);
    try {
      const host = req.headers.host ?? '';
      if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return send(res, 421, { error: 'wrong Host header' });
      const target = req.url ?? '/';
      // Origin-form only ("/path?query"): no absolute URLs, no "//host/…" that would parse as another host.
      if (!target.startsWith('/') || target.startsWith('//')) return send(res, 400, { error: 'malformed URL' });
      const url = new URL(target, `http://127.0.0.1:${port}`);
      let pathname: string;
      try {
        pathname = decodeURIComponent(url.pathname);
      } catch {
        // A malformed escape (`/%`, `/%E0%A4%A`) must not throw out of the handler (it would end the server).
        return send(res, 400, { error: 'malformed URL' });
      }
      if (pathname.includes('\0')) return send(res, 400, { error: 'malformed URL' });
      if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return api(req, res, url);
      return staticFile(req, res, pathname);
    } catch (err) {
      log(`oocr serve: ${req.method ?? '?'} ${req.url ?? '?'} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      send(res, 500, { error: 'internal error' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    /**
     * Stops serving: ends the event streams, closes every connection and the listening socket, and
     * shuts the workbench down — running jobs are cancelled and given `shutdownMs` to save their
     * weights (they end 'cancelled', resumable), queued ones never start. Idempotent.
     */
    close: (shutdownMs = 10_000) =>
      (closing ??= new Promise<void>((resolve) => {
        for (const res of events) res.end();
        server.closeAllConnections();
        const closed = new Promise<void>((r) => server.close(() => r()));
        void Promise.all([wb.shutdown(shutdownMs), closed]).then(() => resolve());
      })),
  };
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('web mode: serve the workbench UI and API on 127.0.0.1 (token-protected)')
    .requiredOption('--workspace <dir>', 'workspace folder (runs live here)')
    .option('--port <n>', 'port (default: a free one)', '0')
    .option('--example', 'create the workspace if needed and, when it holds no runs, copy the example workspace (resources/workspace) into it')
    .option('--renderer <dir>', 'built renderer to serve (default: out/renderer)')
    .addOption(new Option('--backend <name>', 'force a compute backend').choices([...BACKEND_ORDER]))
    .action(async (o: { workspace: string; port: string; backend?: BackendName; example?: boolean; renderer?: string }) => {
      try {
        if (o.example && seedWorkspace(o.workspace, EXAMPLE_WORKSPACE)) process.stderr.write(`oocr: copied the example workspace into ${o.workspace}\n`);
        if (!fs.existsSync(o.workspace) || !fs.statSync(o.workspace).isDirectory()) throw new Error(`workspace ${o.workspace} is not a folder`);
        const wb = createWorkbench({ workspaceDir: o.workspace, backend: o.backend, exampleBase: path.join(EXAMPLE_WORKSPACE, 'world-base') });
        const srv = await startWebServer(wb, { port: parseInteger('--port', o.port, RANGES.port), staticDir: o.renderer });
        process.stdout.write(`Workbench at ${srv.url}\n`);
        // Ctrl-C / SIGTERM. Shutting the server down is srv.close() (startWebServer); anything else that
        // must finish before exit goes here, beside it. A second signal while closing exits at once.
        let stopping = false;
        const onSignal = (): void => {
          if (stopping) process.exit(1);
          stopping = true;
          void srv.close().then(
            () => process.exit(0),
            (err: unknown) => fail(err),
          );
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      } catch (err) {
        fail(err);
      }
    });
}
