import fs from 'node:fs';
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

/** The AssemblyScript source of a kernel, when this is a checkout (for the staleness check). */
export function kernelSourcePath(source: string): string | null {
  const candidates = [`../../../assembly/${source}`, `../../assembly/${source}`].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((f) => fs.existsSync(f)) ?? null;
}

/** Reads a built kernel, refusing one missing or older than its source (a checkout edited since the build). */
export function readBuiltWasm(file: string, source: string): Uint8Array<ArrayBuffer> {
  const built = builtWasmPath(file);
  if (!built) throw new Error(`${file} is not built (npm run build:fused)`);
  const src = kernelSourcePath(source);
  if (src && fs.statSync(src).mtimeMs > fs.statSync(built).mtimeMs) throw new Error(`${built} is older than assembly/${source} (npm run build:fused)`);
  return new Uint8Array(fs.readFileSync(built));
}
