// Compiles the fused training kernel (assembly/fused.ts, AssemblyScript) to WebAssembly with SIMD:
// out/fused/oocr-fused.wasm, build output that src/core/fused/fusedKernel.ts loads. `node
// scripts/build-fused.mjs`; npm's `prepare` runs it. Without the assemblyscript devDependency (an install
// without dev dependencies) it says so and exits 0: training then takes the tfjs path, as on any config
// the kernel does not cover.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = path.join(ROOT, 'assembly', 'fused.ts');
const OUT = path.join(ROOT, 'out', 'fused', 'oocr-fused.wasm');

export async function buildFused({ quiet = false } = {}) {
  let asc;
  try {
    asc = (await import('assemblyscript/asc')).default;
  } catch {
    console.warn('oocr: assemblyscript is not installed (a dev dependency); the fused kernel is not built and training uses tfjs');
    return false;
  }
  const started = Date.now();
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  const tmp = `${OUT}.tmp-${process.pid}`;
  let errors = '';
  const { error } = await asc.main(
    [path.relative(ROOT, SOURCE), '--outFile', tmp, '-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd', '--baseDir', ROOT],
    { stdout: { write: () => true }, stderr: { write: (s) => ((errors += String(s)), true) } },
  );
  if (error) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`assemblyscript failed on ${path.relative(ROOT, SOURCE)}: ${error.message}\n${errors}`);
  }
  fs.renameSync(tmp, OUT);
  if (!quiet) console.log(`oocr: built ${path.relative(ROOT, OUT)} (${fs.statSync(OUT).size} bytes) in ${Date.now() - started} ms`);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildFused({ quiet: process.argv.includes('--quiet') });
}
