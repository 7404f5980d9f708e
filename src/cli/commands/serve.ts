import { seedWorkspace } from '../../core/io/seedWorkspace';
import type { Command } from 'commander';
import { Option } from 'commander';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_ORDER, type BackendName } from '../../shared/backend';
import { ApiArgumentError, createWorkbench, type Workbench } from '../../core/workbench';
import { fail } from '../fail';
import { parseInteger } from '../overrides';

/** The example workspace shipped with the sources. */
export const EXAMPLE_WORKSPACE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/workspace');

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const MAX_BODY = 1 << 20;
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.woff2': 'font/woff2' };

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/**
 * Web mode: the WorkbenchApi over loopback HTTP (POST /api/<method>, JSON) with server-sent events for
 * progress (GET /api/events; one-way push is all the UI needs, so no WebSocket dependency), and the
 * built renderer as static files. Binds 127.0.0.1 only; every API request needs the random token
 * (Authorization: Bearer, or ?token= for EventSource); the Host header must be the loopback address,
 * which stops DNS-rebinding pages from reaching the API.
 */
export async function startWebServer(wb: Workbench, opts: { port?: number; staticDir?: string; token?: string } = {}): Promise<WebServer> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const staticDir = path.resolve(opts.staticDir ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../out/renderer'));
  let port = 0;
  const authorised = (req: http.IncomingMessage, url: URL): boolean => {
    const given = (req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? url.searchParams.get('token') ?? '').trim();
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const send = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return send(res, 421, { error: 'wrong Host header' });
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname.startsWith('/api/')) {
      if (!authorised(req, url)) return send(res, 401, { error: 'missing or wrong token' });
      if (url.pathname === '/api/events' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(': connected\n\n');
        const off = wb.subscribe((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
        req.on('close', off);
        return;
      }
      if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
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
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          args = text ? (JSON.parse(text) as { args?: unknown }).args : undefined;
        } catch {
          return send(res, 400, { error: 'body is not JSON' });
        }
        wb.call(method, args).then(
          (result) => send(res, 200, { result }),
          (err: unknown) => send(res, err instanceof ApiArgumentError ? 400 : 500, { error: err instanceof Error ? err.message : String(err) }),
        );
      });
      return;
    }
    if (req.method !== 'GET') return send(res, 405, { error: 'use GET' });
    let rel: string;
    try {
      rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    } catch {
      // A malformed escape such as `/%` must not throw out of the handler (it would end the server).
      return send(res, 400, { error: 'malformed URL' });
    }
    const file = path.resolve(staticDir, rel);
    if (!file.startsWith(staticDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`The renderer is not built (${staticDir}); run \`npm run build\` first.\n`);
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found\n');
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        wb.dispose();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
        const srv = await startWebServer(wb, { port: parseInteger('--port', o.port), staticDir: o.renderer });
        process.stdout.write(`Workbench at ${srv.url}\n`);
        const stop = (): void => {
          void srv.close().then(() => process.exit(0));
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      } catch (err) {
        fail(err);
      }
    });
}
