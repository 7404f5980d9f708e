#!/usr/bin/env node
// Packaging step (docs/security.md#electron-fuses): `node scripts/flip-fuses.mjs <path-to-electron-binary>`
// burns the Electron fuses below into the binary that ships (the executable on Linux and Windows,
// `Foo.app` or its inner binary on macOS), then reads them back and fails unless every one took.
// Run it on the packaged copy, before signing (on macOS arm64 it re-signs ad hoc; sign properly after).
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FuseState, FuseV1Options, FuseVersion, flipFuses, getCurrentFuseWire } from '@electron/fuses';

/**
 * The fuses every shipped binary must have, by FuseV1Options name (test/app/fuses.test.ts checks them):
 * no running as plain Node (ELECTRON_RUN_AS_NODE), no NODE_OPTIONS, no --inspect flags, the app only
 * from an asar archive whose integrity is checked, cookies encrypted at rest, and no extra privileges
 * for file:// (the renderer is served from app://, src/main/appProtocol.ts).
 */
export const FUSES = Object.freeze({
  RunAsNode: false,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  EnableCookieEncryption: true,
  GrantFileProtocolExtraPrivileges: false,
});

/** FUSES as @electron/fuses' flipFuses config (fuse wire V1). */
export function fuseConfig({ platform = process.platform, arch = process.arch } = {}) {
  const config = { version: FuseVersion.V1, resetAdHocDarwinSignature: platform === 'darwin' && arch === 'arm64' };
  for (const [name, on] of Object.entries(FUSES)) {
    const index = FuseV1Options[name];
    if (typeof index !== 'number') throw new Error(`@electron/fuses knows no fuse ${name}`);
    config[index] = on;
  }
  return config;
}

/** Flips the fuses of `binary` and checks them; resolves with each fuse's state as read back. */
export async function flipAndVerify(binary) {
  await flipFuses(binary, fuseConfig());
  const wire = await getCurrentFuseWire(binary);
  const states = {};
  for (const [name, on] of Object.entries(FUSES)) {
    const state = wire[FuseV1Options[name]];
    states[name] = state === FuseState.ENABLE ? true : state === FuseState.DISABLE ? false : state;
    if (states[name] !== on) throw new Error(`fuse ${name} reads ${String(state)} after flipping, expected ${on ? 'on' : 'off'}`);
  }
  return states;
}

const isMain = process.argv[1] !== undefined && realpathSync(resolve(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url));
if (isMain) {
  const binary = process.argv[2];
  if (!binary || process.argv.length > 3) {
    console.error('usage: node scripts/flip-fuses.mjs <path-to-electron-binary>');
    process.exit(2);
  }
  try {
    const states = await flipAndVerify(resolve(binary));
    for (const [name, on] of Object.entries(states)) console.log(`${name}: ${on ? 'on' : 'off'}`);
  } catch (err) {
    console.error(`flip-fuses: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
