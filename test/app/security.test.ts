// Static checks of the Electron security settings: reads sources as text, imports nothing from electron.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPC_CHANNELS, IPC_PREFIX } from '../../src/shared/api';
import { assertWorkbenchChannel, isWorkbenchChannel } from '../../src/shared/ipcChannels';

const root = resolve(import.meta.dirname, '../..');
const read = (path: string): string => readFileSync(resolve(root, path), 'utf8');

/** The directives of a CSP string, by name. */
function parseCsp(csp: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name, values);
  }
  return directives;
}

function checkCsp(csp: string): void {
  const d = parseCsp(csp);
  expect(d.get('default-src')).toEqual(["'self'"]);
  expect(d.get('script-src')).toEqual(["'self'"]);
  expect(d.get('object-src')).toEqual(["'none'"]);
  expect(d.get('base-uri')).toEqual(["'none'"]);
  expect(csp).not.toContain('unsafe-eval');
  expect(d.get('script-src')).not.toContain("'unsafe-inline'");
}

describe('main process window', () => {
  const main = read('src/main/index.ts');

  it('isolates the renderer', () => {
    expect(main).toMatch(/contextIsolation:\s*true/);
    expect(main).toMatch(/nodeIntegration:\s*false/);
    expect(main).toMatch(/sandbox:\s*true/);
    expect(main).toMatch(/webSecurity:\s*true/);
    expect(main).not.toMatch(/contextIsolation:\s*false|nodeIntegration:\s*true|sandbox:\s*false|webSecurity:\s*false/);
  });

  it('turns off every way into Node or insecure content', () => {
    expect(main).toMatch(/nodeIntegrationInWorker:\s*false/);
    expect(main).toMatch(/allowRunningInsecureContent:\s*false/);
    expect(main).toMatch(/webviewTag:\s*false/);
    expect(main).not.toMatch(/nodeIntegrationInSubFrames:\s*true|experimentalFeatures:\s*true|enableBlinkFeatures/);
  });

  it('denies new windows, webviews, navigation away and permissions; validates IPC senders', () => {
    expect(main).toMatch(/setWindowOpenHandler\(\(\) => \(\{ action: 'deny' \}\)\)/);
    expect(main).toContain("'will-navigate'");
    expect(main).toContain("'will-redirect'");
    expect(main).toMatch(/'will-attach-webview', \(event\) => event\.preventDefault\(\)/);
    expect(main).toMatch(/setPermissionRequestHandler\(\(_wc, _permission, callback\) => callback\(false\)\)/);
    expect(main).toMatch(/setPermissionCheckHandler\(\(\) => false\)/);
    expect(main).toContain('isTrustedSender(event)');
    expect(main).toMatch(/isAppUrl\(frame\.url\)/);
  });

  it('serves the renderer from the privileged app:// scheme, never from file://', () => {
    // Registered at module load, i.e. before `ready`, as standard + secure; never CORS-readable or CSP-exempt.
    const reg = /protocol\.registerSchemesAsPrivileged\(\[([^\n]*)\]\);/.exec(main);
    expect(reg).not.toBeNull();
    expect(main.indexOf('protocol.registerSchemesAsPrivileged')).toBeLessThan(main.indexOf('app.whenReady()'));
    expect(reg![1]).toMatch(/scheme: APP_SCHEME/);
    expect(reg![1]).toMatch(/standard: true/);
    expect(reg![1]).toMatch(/secure: true/);
    expect(reg![1]).not.toMatch(/corsEnabled|bypassCSP|allowServiceWorkers/);
    expect(main).toContain('protocol.handle(APP_SCHEME, serveAppRequest)');
    expect(main).toContain('resolveAppRequest(RENDERER_DIR, request.url)');
    expect(main).toMatch(/loadURL\(DEV_URL \?\? APP_INDEX_URL\)/);
    expect(main).not.toMatch(/loadFile\(|pathToFileURL|file:\/\//);
  });

  it('honours ELECTRON_RENDERER_URL only through devRendererUrl (unpackaged electron-vite dev, loopback)', () => {
    expect(main).toContain('const DEV_URL = devRendererUrl({ isPackaged: app.isPackaged, env: process.env });');
    // The only direct read is the warning that it is being ignored.
    const reads = main.split('\n').filter((l) => /process\.env(\.|\[')ELECTRON_RENDERER_URL/.test(l));
    expect(reads).toEqual([expect.stringContaining("if (DEV_URL === undefined && process.env['ELECTRON_RENDERER_URL'])")]);
  });

  it('sets a strict CSP header', () => {
    const m = /const CSP = \[([\s\S]*?)\]\.join\('; '\)/.exec(main);
    expect(m).not.toBeNull();
    const csp = [...m![1].matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('; ');
    checkCsp(csp);
    expect(main).toContain("'Content-Security-Policy': [CSP]");
    // and on every app:// response, from the protocol handler itself
    expect(main).toMatch(/RESPONSE_HEADERS = \{ 'Content-Security-Policy': CSP,/);
    expect(main).toMatch(/new Response\(body, \{ status: 200, headers: \{ \.\.\.RESPONSE_HEADERS,/);
  });
});

describe('renderer index.html', () => {
  const html = read('src/renderer/index.html');

  it('carries the same strict CSP in a <meta> tag', () => {
    const m = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(m).not.toBeNull();
    checkCsp(m![1]);
  });

  it('has no inline scripts', () => {
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc=/);
  });
});

it('main and index.html use the same CSP', () => {
  const main = read('src/main/index.ts');
  const header = /const CSP = \[([\s\S]*?)\]\.join\('; '\)/.exec(main)![1];
  const fromMain = [...header.matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('; ');
  const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(read('src/renderer/index.html'))![1];
  // frame-ancestors only works as a header: browsers ignore it in <meta> and log an error for it.
  expect(fromMain).toContain("frame-ancestors 'none'");
  expect(meta).not.toContain('frame-ancestors');
  expect(fromMain.replace("; frame-ancestors 'none'", '')).toBe(meta);
});

describe('preload', () => {
  const preload = read('src/preload/index.ts');

  it('exposes exactly one object, never ipcRenderer itself', () => {
    expect(preload.match(/contextBridge\.exposeInMainWorld\(/g)?.length).toBe(1);
    expect(preload).toContain("contextBridge.exposeInMainWorld('workbench', api);");
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer/);
    expect(preload).toMatch(/assertWorkbenchChannel\(channel\)/);
  });
});

describe('Electron version and install', () => {
  const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string>; allowScripts: Record<string, boolean> };

  it('pins a supported Electron (45.x) exactly, with @electron/fuses for packaging', () => {
    expect(pkg.devDependencies.electron).toMatch(/^45\.\d+\.\d+$/);
    expect(pkg.devDependencies['@electron/fuses']).toBeDefined();
  });

  it('keeps npm from running the download script of electron at install time', () => {
    expect(pkg.allowScripts.electron).toBe(false);
  });
});

describe('preload channel guard', () => {
  it('accepts workbench: channels', () => {
    expect(isWorkbenchChannel('workbench:getBackendInfo')).toBe(true);
    for (const channel of Object.values(IPC_CHANNELS)) {
      expect(channel.startsWith(IPC_PREFIX)).toBe(true);
      expect(() => assertWorkbenchChannel(channel)).not.toThrow();
    }
  });

  it.each([
    'getBackendInfo',
    'vscode:getBackendInfo',
    'Workbench:getBackendInfo',
    ' workbench:getBackendInfo',
    'workbench:',
    'workbench: x',
    'workbench:../x',
    'xworkbench:getBackendInfo',
    '',
    undefined,
    null,
    42,
    { toString: () => 'workbench:getBackendInfo' },
  ])('rejects %j', (channel) => {
    expect(isWorkbenchChannel(channel)).toBe(false);
    expect(() => assertWorkbenchChannel(channel)).toThrow(/Refused IPC channel/);
  });
});
