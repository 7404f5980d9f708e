/**
 * The desktop app's own origin, as pure functions (no `electron` import, so they are unit-tested in
 * test/app/appProtocol.test.ts): the built renderer is served from the privileged custom scheme
 * `app://workbench/…` (src/main/index.ts registers it and answers it with `protocol.handle`), never
 * from `file://`, and each request path is resolved strictly inside out/renderer.
 */
import path from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
/** The origin of the app's page; the only one whose IPC calls main answers (besides the dev server). */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type of a file the app serves (by extension; unknown ones as opaque bytes). */
export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** A dot segment as written before URL normalisation: `.`, `..`, `%2e`, `.%2E`, … */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/**
 * The file under `root` that an `app://workbench/…` URL names, or null when the URL is not one of
 * ours or its path could reach anything outside `root`. Strict on purpose: a dot segment (also
 * percent-encoded), an encoded `/`, a backslash, a NUL, a `:` (a Windows drive), an empty segment
 * (`//`, which would make the rest absolute) or a malformed escape refuses the request instead of
 * being normalised into something else; the result is also checked to lie inside `root`. `/` names
 * index.html. Query and fragment are ignored. Symlinks are the caller's to check (see index.ts).
 */
export function resolveAppRequest(root: string, url: string): string | null {
  if (typeof url !== 'string' || url.includes('\0')) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host.toLowerCase() !== APP_HOST || parsed.username || parsed.password || parsed.port) return null;
  // The URL parser collapses dot segments (`/a/../b` → `/b`); refuse them as written instead.
  const rawPath = url.slice(url.indexOf('//') + 2).replace(/[?#].*$/s, '');
  const slash = rawPath.indexOf('/');
  if (slash >= 0 && DOT_SEGMENT.test(rawPath.slice(slash))) return null;
  const pathname = parsed.pathname === '' || parsed.pathname === '/' ? '/index.html' : parsed.pathname;
  if (!pathname.startsWith('/')) return null;
  const segments: string[] = [];
  for (const raw of pathname.slice(1).split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (seg === '' || seg === '.' || seg === '..' || /[/\\\0:]/.test(seg)) return null;
    segments.push(seg);
  }
  const base = path.resolve(root);
  const file = path.resolve(base, ...segments);
  return file.startsWith(base + path.sep) ? file : null;
}

/** True when `child` is `parent` or lies inside it (both absolute, already resolved). */
export function isInside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

/**
 * The electron-vite dev server's URL when, and only when, this is a development run: not packaged,
 * started by `electron-vite dev` (which sets NODE_ENV_ELECTRON_VITE=development before it spawns
 * Electron, and ELECTRON_RENDERER_URL to its server), and the URL is plain http on this machine's
 * loopback (localhost, 127.0.0.1 or [::1]) with no credentials. Anything else: undefined, and the app
 * loads its own built files.
 */
export function devRendererUrl(o: { isPackaged: boolean; env: Readonly<Record<string, string | undefined>> }): string | undefined {
  if (o.isPackaged || o.env['NODE_ENV_ELECTRON_VITE'] !== 'development') return undefined;
  const raw = o.env['ELECTRON_RENDERER_URL'];
  if (!raw) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' || u.username || u.password) return undefined;
  if (u.hostname !== 'localhost' && u.hostname !== '127.0.0.1' && u.hostname !== '[::1]') return undefined;
  return u.href;
}

/**
 * True for URLs of the app's own page: the dev server's origin in development, otherwise
 * `app://workbench/…`. `file:` URLs never are, whatever file they name.
 */
export function isAppUrl(url: string, devUrl?: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (devUrl !== undefined) return u.origin === new URL(devUrl).origin;
  return u.protocol === `${APP_SCHEME}:` && u.host.toLowerCase() === APP_HOST && !u.username && !u.password && !u.port;
}
