#!/usr/bin/env node
// Runs the CLI from its bundle, out/cli/index.js (scripts/build-cli.mjs; npm's `prepare` builds it), while
// that bundle is fresh: every source file it was built from still has the size and mtime recorded in
// out/cli/stamp.json (scripts/cli-bundle.mjs). Otherwise (a checkout without the build, sources edited
// since, OOCR_FROM_SOURCE=1) it runs the TypeScript sources through tsx's loader (a runtime dependency),
// as before the bundle existed: ~1 s slower to start, same behaviour. `npm run build:cli` refreshes the
// bundle; OOCR_REQUIRE_BUNDLE=1 makes a missing or stale one an error (exit 3) instead.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshBundle } from '../scripts/cli-bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = process.env.OOCR_FROM_SOURCE === '1' ? null : freshBundle(root);
if (!bundle && process.env.OOCR_REQUIRE_BUNDLE === '1') {
  // For benchmarks and tests that must measure the bundle, never the sources.
  console.error('oocr: OOCR_REQUIRE_BUNDLE=1 but out/cli is missing or older than its sources (npm run build:cli)');
  process.exit(3);
}
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
