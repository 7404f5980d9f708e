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

  it('denies new windows and validates IPC senders', () => {
    expect(main).toMatch(/setWindowOpenHandler\(\(\) => \(\{ action: 'deny' \}\)\)/);
    expect(main).toContain("'will-navigate'");
    expect(main).toContain('isTrustedSender(event)');
  });

  it('sets a strict CSP header', () => {
    const m = /const CSP = \[([\s\S]*?)\]\.join\('; '\)/.exec(main);
    expect(m).not.toBeNull();
    const csp = [...m![1].matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('; ');
    checkCsp(csp);
    expect(main).toContain("'Content-Security-Policy': [CSP]");
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
