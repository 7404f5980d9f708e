// Compiles the wasm kernels (AssemblyScript) to out/fused/: the fused training kernel (assembly/fused.ts →
// oocr-fused.wasm, loaded by src/core/fused/fusedKernel.ts) and the multi-threaded matmul (assembly/gemm.ts →
// oocr-gemm-fma.wasm and oocr-gemm.wasm, loaded by src/core/backend/gemm/gemmPool.ts). `node
// scripts/build-fused.mjs`; npm's `prepare` runs it. Without the assemblyscript devDependency (an install
// without dev dependencies) it says so and exits 0: training then takes the tfjs path, as on any config
// the kernel does not cover.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = path.join(ROOT, 'out', 'fused');

/** What is built: the fused training kernel, and the matmul kernel with and without relaxed SIMD's FMA. */
const TARGETS = [
  { source: 'assembly/fused.ts', out: 'oocr-fused.wasm', flags: ['--enable', 'simd'] },
  ...[
    ['oocr-gemm-fma.wasm', ['--enable', 'relaxed-simd', '--use', 'FMA=1']],
    ['oocr-gemm.wasm', ['--use', 'FMA=0']],
  ].map(([out, extra]) => ({
    source: 'assembly/gemm.ts',
    out,
    // A shared memory that the caller provides: gemmPool.ts hands the same one to every thread.
    flags: ['--enable', 'simd', '--enable', 'threads', '--importMemory', '--sharedMemory', '--initialMemory', '2', '--maximumMemory', '65536', ...extra],
  })),
];

export async function buildFused({ quiet = false } = {}) {
  let asc;
  try {
    asc = (await import('assemblyscript/asc')).default;
  } catch {
    console.warn('oocr: assemblyscript is not installed (a dev dependency); the wasm kernels are not built and training uses tfjs');
    return false;
  }
  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const t of TARGETS) {
    const started = Date.now();
    const out = path.join(OUT_DIR, t.out);
    const tmp = `${out}.tmp-${process.pid}`;
    let errors = '';
    const { error } = await asc.main(
      [t.source, '--outFile', tmp, '-O3', '--runtime', 'stub', '--noAssert', ...t.flags, '--baseDir', ROOT],
      { stdout: { write: () => true }, stderr: { write: (s) => ((errors += String(s)), true) } },
    );
    if (error) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`assemblyscript failed on ${t.source}: ${error.message}\n${errors}`);
    }
    fs.renameSync(tmp, out);
    if (!quiet) console.log(`oocr: built ${path.relative(ROOT, out)} (${fs.statSync(out).size} bytes) in ${Date.now() - started} ms`);
  }
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildFused({ quiet: process.argv.includes('--quiet') });
}
