import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

const root = import.meta.dirname;
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  optionalDependencies?: Record<string, string>;
};

/**
 * Dev server only: Vite and @vitejs/plugin-react inject inline module scripts (the React Refresh
 * preamble) that the strict `script-src 'self'` of index.html would block. Add their sha256 hashes to
 * the <meta> CSP so dev keeps the same policy without 'unsafe-inline'. The built app has no inline
 * scripts and gets the policy unchanged.
 */
function devInlineScriptHashes(): Plugin {
  return {
    name: 'oocr:dev-csp-inline-script-hashes',
    apply: 'serve',
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const hashes = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)]
          .filter((m) => !/\bsrc\s*=/.test(m[0].slice(0, m[0].indexOf('>'))) && m[1].trim() !== '')
          .map((m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`);
        if (hashes.length === 0) return html;
        return html.replace(/(<meta\s+http-equiv="Content-Security-Policy"\s+content="[^"]*script-src 'self')/, `$1 ${hashes.join(' ')}`);
      },
    },
  };
}

export default defineConfig({
  main: {
    build: {
      // Dependencies stay external (electron-vite's default, from package.json "dependencies"); the
      // optional tfjs-node packages and every other @tensorflow/* import are external too, so core code
      // bundled here loads tfjs from node_modules at run time through its package entry points.
      externalizeDeps: { include: Object.keys(pkg.optionalDependencies ?? {}) },
      rolldownOptions: {
        input: {
          index: resolve(root, 'src/main/index.ts'),
          // The worker_threads entry for every job (training, fine-tuning, studies, analyses): core's
          // jobRunner looks for jobWorker.js beside the bundle it was built into (out/main/index.js).
          jobWorker: resolve(root, 'src/core/jobs/jobWorker.ts'),
        },
        external: [/^@tensorflow\//],
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload cannot use ES modules or require from node_modules: one CommonJS file
      // with everything but `electron` bundled in.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    plugins: [react(), devInlineScriptHashes()],
    build: {
      rolldownOptions: { input: { index: resolve(root, 'src/renderer/index.html') } },
    },
  },
});
