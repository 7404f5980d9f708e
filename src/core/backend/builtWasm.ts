import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The wasm kernels built by scripts/build-fused.mjs into out/fused/: found from this source file in a
 * checkout (src/core/backend → out/fused), or beside a bundle in out/<name>/ (the CLI's out/cli, electron-vite's
 * out/main), whose import.meta.url is the bundle's.
 */
export function builtWasmPath(file: string): string | null {
  const candidates = [`../../../out/fused/${file}`, `../fused/${file}`].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((f) => fs.existsSync(f)) ?? null;
}

/**
 * The newest AssemblyScript source in a checkout's assembly/ (none beside a bundle), for the staleness
 * check: the kernels share files (assembly/expf.ts) and scripts/build-fused.mjs builds them all at once.
 */
function newestKernelSource(): { file: string; mtimeMs: number } | null {
  const dir = [`../../../assembly/`, `../../assembly/`].map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((d) => fs.existsSync(d));
  if (!dir) return null;
  let newest: { file: string; mtimeMs: number } | null = null;
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.ts')) continue;
    const mtimeMs = fs.statSync(path.join(dir, name)).mtimeMs;
    if (!newest || mtimeMs > newest.mtimeMs) newest = { file: name, mtimeMs };
  }
  return newest;
}

/** Reads a built kernel, refusing one missing or older than the sources (a checkout edited since the build). */
export function readBuiltWasm(file: string): Uint8Array<ArrayBuffer> {
  const built = builtWasmPath(file);
  if (!built) throw new Error(`${file} is not built (npm run build:fused)`);
  const src = newestKernelSource();
  if (src && src.mtimeMs > fs.statSync(built).mtimeMs) throw new Error(`${built} is older than assembly/${src.file} (npm run build:fused)`);
  return new Uint8Array(fs.readFileSync(built));
}
