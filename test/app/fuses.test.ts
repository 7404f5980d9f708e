// The Electron fuses that packaging burns into the shipped binary (scripts/flip-fuses.mjs,
// docs/security.md#electron-fuses): the settings themselves, and the script run on a stand-in binary
// that carries a fuse wire the way Electron's does (the real binary cannot be downloaded here).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FuseState, FuseV1Options, FuseVersion } from '@electron/fuses';
import { describe, expect, it } from 'vitest';
import { FUSES, fuseConfig } from '../../scripts/flip-fuses.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/flip-fuses.mjs');
const run = promisify(execFile);
/** @electron/fuses' marker before the wire (dist/constants.js); the wire is version, length, states. */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

/** A stock Electron's defaults: RunAsNode, NODE_OPTIONS, --inspect and file:// privileges on; the rest off. */
const STOCK: Record<keyof typeof FuseV1Options & string, boolean> = {
  RunAsNode: true,
  EnableCookieEncryption: false,
  EnableNodeOptionsEnvironmentVariable: true,
  EnableNodeCliInspectArguments: true,
  EnableEmbeddedAsarIntegrityValidation: false,
  OnlyLoadAppFromAsar: false,
  LoadBrowserProcessSpecificV8Snapshot: false,
  GrantFileProtocolExtraPrivileges: true,
  WasmTrapHandlers: true,
};
const NAMES = Object.keys(STOCK) as (keyof typeof STOCK)[];

function fakeElectron(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-fuses-'));
  const file = path.join(dir, 'electron');
  const wire = NAMES.map((n) => (STOCK[n] ? FuseState.ENABLE : FuseState.DISABLE));
  fs.writeFileSync(file, Buffer.concat([Buffer.alloc(4096, 7), Buffer.from(SENTINEL), Buffer.from([1, wire.length, ...wire]), Buffer.alloc(4096, 7)]));
  return file;
}

function readWire(file: string): Record<string, boolean> {
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf(SENTINEL) + SENTINEL.length;
  expect(bytes[at]).toBe(1);
  const states = bytes.subarray(at + 2, at + 2 + bytes[at + 1]);
  return Object.fromEntries(NAMES.map((n) => [n, states[FuseV1Options[n]] === FuseState.ENABLE]));
}

describe('Electron fuses', () => {
  it('turn off Node-as-runtime, NODE_OPTIONS and --inspect; require an integrity-checked asar; encrypt cookies', () => {
    expect(FUSES).toEqual({
      RunAsNode: false,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
      EnableCookieEncryption: true,
      GrantFileProtocolExtraPrivileges: false,
    });
    expect(Object.isFrozen(FUSES)).toBe(true);
  });

  it('map onto the fuse wire by @electron/fuses index', () => {
    const c = fuseConfig({ platform: 'linux', arch: 'x64' }) as unknown as Record<string | number, unknown>;
    expect(c.version).toBe(FuseVersion.V1);
    for (const [name, on] of Object.entries(FUSES)) expect(c[FuseV1Options[name as keyof typeof FuseV1Options]], name).toBe(on);
    // Fuses not named keep the binary's own setting.
    expect(c[FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]).toBeUndefined();
    expect(c.resetAdHocDarwinSignature).toBe(false);
    expect(fuseConfig({ platform: 'darwin', arch: 'arm64' }).resetAdHocDarwinSignature).toBe(true);
  });

  it('the script flips them in a binary and reads them back', async () => {
    const file = fakeElectron();
    const { stdout } = await run(process.execPath, [SCRIPT, file], { cwd: ROOT });
    expect(stdout).toContain('RunAsNode: off');
    expect(stdout).toContain('OnlyLoadAppFromAsar: on');
    const after = readWire(file);
    for (const n of NAMES) expect(after[n], n).toBe(n in FUSES ? FUSES[n as keyof typeof FUSES] : STOCK[n]);
  });

  it('the script fails without a binary, or on a file with no fuse wire', async () => {
    await expect(run(process.execPath, [SCRIPT], { cwd: ROOT })).rejects.toMatchObject({ code: 2 });
    const notElectron = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-fuses-')), 'x');
    fs.writeFileSync(notElectron, 'not an electron binary');
    await expect(run(process.execPath, [SCRIPT, notElectron], { cwd: ROOT })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('sentinel') });
  });
});
