/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';

/**
 * End-to-end harness: builds the renderer once per test file, then gives each test its own session:
 * `oocr serve` (web mode, 127.0.0.1, token) over a fresh copy of the example workspace, and a fresh
 * browser context in Debian's chromium driven by playwright-core (DESIGN.md §8). Nothing is shared
 * between tests but the built renderer and the browser process, and nothing waits on a clock: every
 * wait is on a condition. Screenshots go to test-output/screenshots; with OOCR_UPDATE_SCREENSHOTS=1
 * the README's copies in docs/screenshots are refreshed too.
 */

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.OOCR_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const README_SHOTS = path.join(ROOT, 'docs', 'screenshots');
/** Exported figures (the gallery of docs/figures.md): every run writes them here… */
export const FIGURES = path.join(ROOT, 'test-output', 'figures');
/** …and with OOCR_UPDATE_SCREENSHOTS=1 (`npm run screenshots`) refreshes the gallery's copies. */
export const GALLERY = path.join(ROOT, 'docs', 'figures');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** How long a server that was asked to stop may take before it is killed. */
const SERVER_STOP_GRACE_MS = 10_000;

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

/** What a test file shares: the renderer built once, and one browser process. */
export interface Suite {
  /** The built renderer (what `oocr serve --renderer` serves). */
  renderer: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Builds the renderer into a temporary folder and launches chromium (once per test file). */
export async function startSuite(): Promise<Suite> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-e2e-build-'));
  const out = path.join(tmp, 'out');
  let browser: Browser;
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return {
    renderer: path.join(out, 'renderer'),
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export interface Session {
  url: string;
  tmp: string;
  workspace: string;
  downloads: string;
  server: ChildProcess;
  context: BrowserContext;
  page: Page;
  /** Everything the page logged as an error (console errors, uncaught exceptions). */
  pageErrors: string[];
  close(): Promise<void>;
}

/** One test's session: its own server over a fresh copy of the example workspace, its own browser context. */
export async function startSession(suite: Suite): Promise<Session> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-e2e-'));
  const workspace = path.join(tmp, 'workspace');
  const server = spawn(process.execPath, [path.join(ROOT, 'bin/oocr.mjs'), 'serve', '--example', '--workspace', workspace, '--renderer', suite.renderer], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  let stderr = '';
  server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stopServer = async (): Promise<void> => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGTERM');
    // A server that ignores SIGTERM would hang the suite: after a grace period, SIGKILL (and still wait for the exit).
    const grace = setTimeout(() => server.kill('SIGKILL'), SERVER_STOP_GRACE_MS);
    await exited;
    clearTimeout(grace);
  };
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
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
      server.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`oocr serve exited with ${code}: ${stderr}`));
      });
    });
  } catch (err) {
    await stopServer();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const context = await suite.browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, deviceScaleFactor: 1 });
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
    context,
    page,
    pageErrors,
    async close() {
      await context.close().catch(() => undefined);
      await stopServer();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Resolves once the page has run two animation frames: whatever a change scheduled (a render, a resize) has been drawn. */
export async function nextFrames(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
}

/** Saves a screenshot (and refreshes the README copy when asked). */
export async function screenshot(page: Page, name: string, opts: { height?: number; readme?: boolean } = {}): Promise<string> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  // The views scroll inside the app's main area, not the page: a taller window shows more of them.
  const size = page.viewportSize();
  if (opts.height && size) {
    await page.setViewportSize({ width: size.width, height: opts.height });
    await page.waitForFunction((h) => window.innerHeight === h, opts.height);
    await nextFrames(page);
  }
  await page.screenshot({ path: file });
  if (opts.height && size) await page.setViewportSize(size);
  if (opts.readme && process.env.OOCR_UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(README_SHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(README_SHOTS, `${name}.png`));
  }
  return file;
}

/** Keeps an exported figure as `name` (with its extension) in test-output/figures, and in docs/figures when screenshots are being refreshed. */
export function saveFigure(file: string, name: string): string {
  fs.mkdirSync(FIGURES, { recursive: true });
  const out = path.join(FIGURES, name);
  fs.copyFileSync(file, out);
  if (process.env.OOCR_UPDATE_SCREENSHOTS === '1' && name.endsWith('.png')) {
    fs.mkdirSync(GALLERY, { recursive: true });
    fs.copyFileSync(file, path.join(GALLERY, name));
  }
  return out;
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

/**
 * The hooks every e2e file registers inside its describe: the renderer is built and chromium launched
 * once per file; each test gets its own session (server, workspace, page) opened on Runs, and may leave
 * no errors in the page's console (401s are expected where a test sends a wrong token). Returns the
 * current test's session.
 */
export function useSessions(): () => Session {
  let suite: Suite | undefined;
  let s: Session | undefined;
  beforeAll(async () => {
    suite = await startSuite();
  }, 300_000);
  afterAll(async () => {
    await suite?.close();
  });
  beforeEach(async () => {
    s = await startSession(suite as Suite);
    await s.page.goto(s.url);
    await s.page.locator('[data-testid="view-runs"]').waitFor({ timeout: 30_000 });
  }, 120_000);
  afterEach(async () => {
    const errors = s?.pageErrors.filter((e) => !/401|Unauthorized|Failed to load resource/.test(e)) ?? [];
    await s?.close();
    expect(errors).toEqual([]);
  }, 60_000);
  return () => s as Session;
}
