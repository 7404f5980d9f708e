// Projection frame rate: `npm run bench:projection [-- --seconds S]`.
//
// In Debian's chromium (headless, software WebGL, as the e2e tests run it), orbits 2,000 and 10,000
// points with the Projection view's scene and with the reference it replaced (instanced sphere meshes
// under MSAA), both on a 1000 × 700 canvas, and prints frames per second and the ratio. Served by
// vite from bench/projection-page on 127.0.0.1. Not a unit test: frame rates depend on the machine.
import { chromium } from 'playwright-core';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.OOCR_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const i = process.argv.indexOf('--seconds');
const SECONDS = i >= 0 ? Number(process.argv[i + 1]) : 3;

const server = await createServer({ root: path.join(ROOT, 'bench/projection-page'), configFile: false, logLevel: 'error', server: { host: '127.0.0.1', port: 0, fs: { allow: [ROOT] } } });
await server.listen();
const url = server.resolvedUrls?.local[0];
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  await page.goto(url as string);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 60_000 });
  const renderer = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    return ext ? String(gl?.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : String(gl?.getParameter(gl.RENDERER));
  });
  console.log(`projection frame rate: chromium ${browser.version()}, WebGL ${renderer}; ${os.cpus().length} cores; 1000 × 700 canvas, ${SECONDS} s per measurement`);
  console.log('points   reference fps   impostors fps   speed-up');
  const results: Record<string, { reference: number; impostors: number }> = {};
  for (const n of [2000, 10000]) {
    const reference = await page.evaluate(([k, s]) => (window as unknown as { bench: (m: string, n: number, s: number) => number }).bench('reference', k, s), [n, SECONDS] as const);
    const impostors = await page.evaluate(([k, s]) => (window as unknown as { bench: (m: string, n: number, s: number) => number }).bench('impostors', k, s), [n, SECONDS] as const);
    results[n] = { reference, impostors };
    console.log(`${String(n).padStart(6)}   ${reference.toFixed(1).padStart(13)}   ${impostors.toFixed(1).padStart(13)}   ${(impostors / reference).toFixed(2).padStart(7)}×`);
  }
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
  await server.close();
}
