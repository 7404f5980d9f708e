import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * End-to-end harness: builds the renderer, serves it with `oocr serve` (web mode, 127.0.0.1, token)
 * over a copy of the example workspace, and drives Debian's chromium with playwright-core
 * (DESIGN.md §8). Screenshots go to test-output/screenshots; with OOCR_UPDATE_SCREENSHOTS=1 the
 * README's copies in docs/screenshots are refreshed too.
 */

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.OOCR_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const README_SHOTS = path.join(ROOT, 'docs', 'screenshots');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

export interface Session {
  url: string;
  tmp: string;
  workspace: string;
  downloads: string;
  server: ChildProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Everything the page logged as an error (console errors, uncaught exceptions). */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function startSession(): Promise<Session> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-e2e-'));
  const out = path.join(tmp, 'out');
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
  const workspace = path.join(tmp, 'workspace');
  const server = spawn(process.execPath, [path.join(ROOT, 'bin/oocr.mjs'), 'serve', '--example', '--workspace', workspace, '--renderer', path.join(out, 'renderer')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`oocr serve printed no URL in 60 s; stderr: ${stderr}`)), 60_000);
    server.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /^Workbench at (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`oocr serve exited with ${code}: ${stderr}`)));
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  const downloads = path.join(tmp, 'downloads');
  fs.mkdirSync(downloads);
  return {
    url,
    tmp,
    workspace,
    downloads,
    server,
    browser,
    context,
    page,
    pageErrors,
    async close() {
      await browser.close().catch(() => undefined);
      server.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot (and refreshes the README copy when asked). */
export async function screenshot(page: Page, name: string, opts: { height?: number; readme?: boolean } = {}): Promise<string> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  // The views scroll inside the app's main area, not the page: a taller window shows more of them.
  const size = page.viewportSize();
  if (opts.height && size) {
    await page.setViewportSize({ width: size.width, height: opts.height });
    await page.waitForTimeout(300);
  }
  await page.screenshot({ path: file });
  if (opts.height && size) await page.setViewportSize(size);
  if (opts.readme && process.env.OOCR_UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(README_SHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(README_SHOTS, `${name}.png`));
  }
  return file;
}

/** Clicks an export button of the panel named `panel` and saves the file; returns its path. */
export async function exportFrom(s: Session, panelName: string | RegExp, format: 'PNG' | 'SVG' | 'CSV'): Promise<{ file: string; suggested: string }> {
  const panel = s.page.getByRole('region', { name: panelName }).first();
  const [download] = await Promise.all([s.page.waitForEvent('download', { timeout: 30_000 }), panel.getByRole('group', { name: /^Export/ }).getByRole('button', { name: format, exact: true }).click()]);
  const file = path.join(s.downloads, `${Date.now()}-${download.suggestedFilename()}`);
  await download.saveAs(file);
  return { file, suggested: download.suggestedFilename() };
}

/** Width and height from a PNG's IHDR chunk (checks the signature too). */
export function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  if (b.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error(`${file} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}
