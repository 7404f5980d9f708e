// Runs a TypeScript ESM file with tsx's loader: `node scripts/run-ts.mjs FILE.ts [args...]`.
// The script sees itself as process.argv[1] and its own arguments from process.argv[2] on, as if it
// had been started with `node FILE.ts args...`.
import { resolve } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const [node, , file, ...rest] = process.argv;
if (!file) {
  console.error('usage: node scripts/run-ts.mjs FILE.ts [args...]');
  process.exit(2);
}
const target = resolve(file);
process.argv = [node, target, ...rest];
register();
await import(pathToFileURL(target).href);
