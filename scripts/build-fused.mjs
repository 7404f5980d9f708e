// Compiles the wasm kernels (AssemblyScript) to out/fused/: the fused training kernel (assembly/fused.ts →
// oocr-fused.wasm, loaded by src/core/fused/fusedKernel.ts) and the multi-threaded matmul (assembly/gemm.ts →
// oocr-gemm-fma.wasm and oocr-gemm.wasm, loaded by src/core/backend/gemm/gemmPool.ts), and the in-place
// elementwise kernels (assembly/inplace.ts → oocr-inplace.wasm, src/core/backend/kernels/inplaceKernels.ts). `node
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
  // Runs inside tfjs-backend-wasm's memory, which it must not write at instantiation: no data section.
  { source: 'assembly/inplace.ts', out: 'oocr-inplace.wasm', flags: ['--enable', 'simd', '--importMemory', '--initialMemory', '0'], noData: true },
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

const DATA_SECTION = 11;

/** The ids of a wasm binary's sections, in order. */
function sectionIds(bytes) {
  const ids = [];
  let i = 8;
  while (i < bytes.length) {
    ids.push(bytes[i++]);
    let size = 0;
    let shift = 0;
    let b;
    do {
      b = bytes[i++];
      size |= (b & 127) << shift;
      shift += 7;
    } while (b & 128);
    i += size;
  }
  return ids;
}

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
    if (t.noData && sectionIds(fs.readFileSync(tmp)).includes(DATA_SECTION)) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`${t.source} compiled to a module with static data, which would overwrite the memory it imports`);
    }
    fs.renameSync(tmp, out);
    if (!quiet) console.log(`oocr: built ${path.relative(ROOT, out)} (${fs.statSync(out).size} bytes) in ${Date.now() - started} ms`);
  }
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildFused({ quiet: process.argv.includes('--quiet') });
}
