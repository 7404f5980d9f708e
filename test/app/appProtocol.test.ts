// The desktop app's own origin (src/main/appProtocol.ts): which file an app://workbench/ request may
// read, which URLs count as the app's page, and when electron-vite's dev server URL is honoured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL, APP_ORIGIN, contentTypeFor, devRendererUrl, isAppUrl, resolveAppRequest } from '../../src/main/appProtocol';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-renderer-'));
const inside = (p: string | null): boolean => p !== null && p.startsWith(root + path.sep);

describe('resolveAppRequest', () => {
  it('maps app://workbench/ paths to files under the renderer folder', () => {
    expect(APP_ORIGIN).toBe('app://workbench');
    expect(resolveAppRequest(root, APP_INDEX_URL)).toBe(path.join(root, 'index.html'));
    expect(resolveAppRequest(root, 'app://workbench/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppRequest(root, 'app://workbench')).toBe(path.join(root, 'index.html'));
    expect(resolveAppRequest(root, 'app://workbench/assets/index-abc.js?v=1#x')).toBe(path.join(root, 'assets', 'index-abc.js'));
    expect(resolveAppRequest(root, 'app://WORKBENCH/assets/a%20b.css')).toBe(path.join(root, 'assets', 'a b.css'));
  });

  it.each([
    // dot segments, plain and percent-encoded, anywhere in the path
    'app://workbench/../etc/passwd',
    'app://workbench/assets/../../etc/passwd',
    'app://workbench/%2e%2e/etc/passwd',
    'app://workbench/%2E%2E/%2e%2e/etc/passwd',
    'app://workbench/.%2e/etc/passwd',
    'app://workbench/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    'app://workbench/..%2f..%2fetc/passwd',
    'app://workbench/./index.html',
    // absolute paths
    'app://workbench//etc/passwd',
    'app://workbench/%2fetc%2fpasswd',
    'app://workbench/C:/Windows/win.ini',
    'app://workbench/C%3A%5CWindows%5Cwin.ini',
    // backslashes, raw and encoded
    'app://workbench/..\\..\\etc\\passwd',
    'app://workbench/assets\\index.js',
    'app://workbench/%5c..%5c..%5cetc%5cpasswd',
    // NUL, raw and encoded
    'app://workbench/index.html\0.png',
    'app://workbench/index.html%00.png',
    // malformed escapes
    'app://workbench/%',
    'app://workbench/%E0%A4%A',
    // not our origin
    'app://other/index.html',
    'app://workbench:80/index.html',
    'app://user@workbench/index.html',
    'file:///etc/passwd',
    `file://${root}/index.html`,
    'http://workbench/index.html',
    'not a url',
    '',
  ])('refuses %j', (url) => {
    expect(resolveAppRequest(root, url)).toBeNull();
  });

  it('never returns a path outside the folder, whatever the URL', () => {
    const parts = ['..', '.', '%2e', '%2E%2e', '%2f', '%5c', '\\', '/', 'a', '%00', 'etc', 'passwd', ':', 'C:', '%3a'];
    for (const a of parts) for (const b of parts) for (const c of parts) {
      const url = `app://workbench/${a}/${b}${c}`;
      const r = resolveAppRequest(root, url);
      expect(r === null || inside(r), url).toBe(true);
    }
  });

  it('gives each asset type its Content-Type', () => {
    expect(contentTypeFor('/x/index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeFor('/x/a.JS')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeFor('/x/a.wasm')).toBe('application/wasm');
    expect(contentTypeFor('/x/a.bin')).toBe('application/octet-stream');
  });
});

describe('isAppUrl', () => {
  it('accepts the app origin only: never file://, other hosts or schemes', () => {
    expect(isAppUrl('app://workbench/index.html#/weights')).toBe(true);
    for (const url of [`file://${root}/index.html`, 'file:///etc/passwd', 'app://evil/index.html', 'https://workbench/index.html', 'http://localhost:5173/', 'about:blank', 'javascript:alert(1)', 'nonsense']) {
      expect(isAppUrl(url), url).toBe(false);
    }
  });

  it('in development, accepts the dev server’s origin instead', () => {
    const dev = 'http://localhost:5173/';
    expect(isAppUrl('http://localhost:5173/#/runs', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppUrl('app://workbench/index.html', dev)).toBe(false);
  });
});

describe('devRendererUrl', () => {
  const dev = { NODE_ENV_ELECTRON_VITE: 'development', ELECTRON_RENDERER_URL: 'http://localhost:5173' };

  it('is the dev server under `electron-vite dev`, unpackaged, on loopback http', () => {
    expect(devRendererUrl({ isPackaged: false, env: dev })).toBe('http://localhost:5173/');
    expect(devRendererUrl({ isPackaged: false, env: { ...dev, ELECTRON_RENDERER_URL: 'http://127.0.0.1:5173' } })).toBe('http://127.0.0.1:5173/');
  });

  it('is ignored in a packaged app, outside electron-vite dev, and for any other URL', () => {
    expect(devRendererUrl({ isPackaged: true, env: dev })).toBeUndefined();
    expect(devRendererUrl({ isPackaged: false, env: { ELECTRON_RENDERER_URL: dev.ELECTRON_RENDERER_URL } })).toBeUndefined();
    expect(devRendererUrl({ isPackaged: false, env: { ...dev, NODE_ENV_ELECTRON_VITE: 'production' } })).toBeUndefined();
    for (const url of ['https://localhost:5173', 'http://evil.example:5173', 'http://localhost.evil.example/', 'http://192.168.1.2:5173', 'http://user:pw@localhost:5173', 'file:///tmp/index.html', 'javascript:alert(1)', 'not a url', '']) {
      expect(devRendererUrl({ isPackaged: false, env: { ...dev, ELECTRON_RENDERER_URL: url } }), url).toBeUndefined();
    }
  });
});
