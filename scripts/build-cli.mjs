// Builds the `oocr` CLI and its job worker into out/cli/ with esbuild (a dependency of tsx, so present
// wherever the CLI can run at all): `node scripts/build-cli.mjs`. bin/oocr.mjs runs the bundle while it
// is fresh (out/cli/stamp.json: every source file it was built from, with sizes and mtimes), else the
// TypeScript sources through tsx as before. npm's `prepare` runs this after `npm ci` / `npm install`.
//
// - Dependencies stay external (node_modules is not bundled): tfjs, its wasm binaries, tfjs-node where it
//   loads, commander, zod… load from their packages as before.
// - out/cli/index.js and out/cli/jobWorker.js: core's jobRunner spawns the worker from jobWorker.js
//   beside the module it was bundled into (its `import.meta.url`).
// - Every other `import.meta.url` of a source file (the CLI's paths to resources/, package.json, the
//   fused kernel's .wasm) is rewritten to that source file's own URL, relative to the bundle, so such paths
//   resolve exactly as they do from the sources.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { STAMP_FORMAT } from './cli-bundle.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'out', 'cli');

/** Files whose `import.meta.url` must stay the bundle's own (it locates jobWorker.js beside the bundle). */
const KEEP_META_URL = new Set([path.join(ROOT, 'src/core/jobs/jobRunner.ts')]);

/**
 * `import * as tf from '@tensorflow/tfjs'` (in ~40 files) becomes one shared object: a CommonJS module
 * imported as a namespace gets its ~1,000 exports copied into a fresh object in every importing file
 * (esbuild's __toESM), ~40,000 property definitions and their garbage at every start.
 */
const TFJS_NAMESPACE_IMPORT = "import * as tf from '@tensorflow/tfjs';";

/** @type {import('esbuild').Plugin} */
const sourceMetaUrl = {
  name: 'oocr-source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      let text = await fs.promises.readFile(args.path, 'utf8');
      text = text.replaceAll(TFJS_NAMESPACE_IMPORT, "import { tfjs as tf } from 'oocr-shared-tfjs';");
      if (KEEP_META_URL.has(args.path) || !text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const rel = path.relative(OUT, args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'ts' };
    });
    build.onResolve({ filter: /^oocr-shared-tfjs$/ }, () => ({ path: 'tfjs', namespace: 'oocr-shared' }));
    build.onLoad({ filter: /.*/, namespace: 'oocr-shared' }, () => ({ contents: "const tfjs = require('@tensorflow/tfjs');\nexport { tfjs };", loader: 'js', resolveDir: ROOT }));
  },
};

/**
 * CommonJS dependencies (tfjs, bullmq, ioredis, commander…) imported from an ES module make Node first
 * scan each one's whole source (cjs-module-lexer) for its export names: ~0.17 s of every start for tfjs's
 * ~7 MB alone. Required instead (the same module instances as their own requires), they skip that scan.
 * Those in LAZY also load on first use, not at start-up: their export names are read here at build time
 * and each becomes a getter that requires the package, so a process that never touches them (the CLI's
 * main thread while a job trains in its worker: no tfjs, no BullMQ) never loads them. Their package.json
 * files are in the stamp: another installed version means a stale bundle.
 */
const require = createRequire(import.meta.url);
/** Loaded on first use. */
const LAZY = ['@tensorflow/tfjs', 'bullmq', 'ioredis', 'ml-matrix', 'umap-js', 'cli-progress', '@huggingface/tokenizers'];
/** Required at import, as before, but without the scan (the wasm backend registers itself on load). */
const REQUIRED = ['@tensorflow/tfjs-backend-wasm', 'commander'];
const CJS = new Set([...LAZY, ...REQUIRED]);
const resolveFromRoot = (id) => require.resolve(id, { paths: [ROOT] });
/** A package's package.json, found from its entry (some packages do not export ./package.json). */
function packageJsonOf(id) {
  let dir = path.dirname(resolveFromRoot(id));
  while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== id) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json for ${id}`);
    dir = up;
  }
  return path.relative(ROOT, path.join(dir, 'package.json'));
}

/**
 * `@tensorflow/tfjs` is core + gradients + cpu backend + layers, converter, data and webgl (which the
 * engine never uses: it imports ops, variables and gradients only). Loading it from the bundle answers
 * those four requires with empty modules: ~0.1 s less in every process that loads tfjs (the CLI's
 * `--version`, every job worker). Not where tfjs-node is installed (it extends layers' classes), nor with
 * OOCR_TFJS_FULL=1.
 */
const TFJS_UNUSED = ['@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-data', '@tensorflow/tfjs-backend-webgl'];
const REQUIRE_TFJS_CORE = `
import { Module as __OocrModule } from 'node:module';
function requireTfjsCore(id) {
  if (process.env.OOCR_TFJS_FULL === '1' || ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].some(canResolve)) return require(id);
  const unused = new Set(${JSON.stringify(TFJS_UNUSED)});
  const load = __OocrModule._load;
  __OocrModule._load = function (request, ...rest) {
    return unused.has(request) ? {} : load.call(this, request, ...rest);
  };
  try {
    return require(id);
  } finally {
    __OocrModule._load = load;
  }
}
function canResolve(pkg) {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}`;

/** @type {import('esbuild').Plugin} */
const requireCommonJs = {
  name: 'oocr-require-commonjs',
  setup(build) {
    build.onResolve({ filter: /^[@a-z]/ }, (args) => {
      if (!CJS.has(args.path)) return undefined;
      // The `require` inside the stand-in module below is the external package itself.
      return args.namespace === 'oocr-cjs' ? { path: args.path, external: true } : { path: args.path, namespace: 'oocr-cjs' };
    });
    build.onLoad({ filter: /.*/, namespace: 'oocr-cjs' }, (args) => {
      const id = JSON.stringify(args.path);
      const lazy = LAZY.includes(args.path) ? require(resolveFromRoot(args.path)) : null;
      if (!lazy || (typeof lazy !== 'object' && typeof lazy !== 'function')) return { contents: `module.exports = require(${id});`, loader: 'js' };
      const names = Object.keys(lazy).filter((k) => k !== 'default' && k !== '__esModule');
      const contents = [
        'let m;',
        args.path === '@tensorflow/tfjs' ? `const load = () => (m ??= requireTfjsCore(${id}));` : `const load = () => (m ??= require(${id}));`,
        // A package that exports a class (ioredis): the stand-in constructs or calls the real one.
        typeof lazy === 'function' ? 'module.exports = function (...args) { return new.target ? Reflect.construct(load(), args) : load().apply(this, args); };' : '',
        `for (const name of ${JSON.stringify(names)}) Object.defineProperty(module.exports, name, { enumerable: true, get: () => load()[name] });`,
      ].join('\n');
      return { contents, loader: 'js' };
    });
  },
};

export async function buildCli({ quiet = false } = {}) {
  const started = Date.now();
  const tmp = `${OUT}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { index: 'src/cli/index.ts', jobWorker: 'src/core/jobs/jobWorker.ts' },
    outdir: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: quiet ? 'error' : 'warning',
    plugins: [sourceMetaUrl, requireCommonJs],
    // `require` for the CommonJS packages above (esbuild's __require calls the one in scope).
    banner: { js: `// Built by scripts/build-cli.mjs from src/: do not edit.\nimport { createRequire as __oocrCreateRequire } from 'node:module';\nconst require = __oocrCreateRequire(import.meta.url);${REQUIRE_TFJS_CORE}` },
  });
  const here = path.dirname(fileURLToPath(import.meta.url));
  const inputs = [...Object.keys(result.metafile.inputs).filter((f) => !f.includes(':')), ...[...CJS].map(packageJsonOf), ...['build-cli.mjs', 'cli-bundle.mjs'].map((f) => path.relative(ROOT, path.join(here, f)))].sort();
  const files = Object.fromEntries(
    inputs.map((rel) => {
      const st = fs.statSync(path.join(ROOT, rel));
      return [rel.split(path.sep).join('/'), { size: st.size, mtimeMs: st.mtimeMs }];
    }),
  );
  fs.writeFileSync(path.join(tmp, 'stamp.json'), `${JSON.stringify({ format: STAMP_FORMAT, builtAt: new Date().toISOString(), node: process.versions.node, files }, null, 1)}\n`);
  // Swap in whole: a CLI starting meanwhile sees the old bundle or the new one, never half of one.
  const old = `${OUT}.old-${process.pid}`;
  if (fs.existsSync(OUT)) fs.renameSync(OUT, old);
  fs.renameSync(tmp, OUT);
  fs.rmSync(old, { recursive: true, force: true });
  if (!quiet) console.log(`oocr: built out/cli (${inputs.length} sources) in ${Date.now() - started} ms`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildCli({ quiet: process.argv.includes('--quiet') });
}
