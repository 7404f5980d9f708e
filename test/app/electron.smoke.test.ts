/// <reference lib="dom" />
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';

/**
 * Electron smoke test: builds main + preload + renderer, launches the real app on a copy of the
 * example workspace and checks the window shows the workbench through the preload's API. The
 * Electron binary cannot be downloaded on these machines (DESIGN.md §8), so the test runs only where
 * it exists; the build itself is checked everywhere.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);

/**
 * The downloaded Electron binary, or null. Read from the package's path.txt rather than through
 * `require('electron')`: Electron 45's index.js downloads the binary when it is missing,
 * which a test must not do.
 */
function electronBinary(): string | null {
  try {
    const dir = path.dirname(require.resolve('electron/package.json'));
    const pathFile = path.join(dir, 'path.txt');
    if (!fs.existsSync(pathFile)) return null;
    const p = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(dir, 'dist'), fs.readFileSync(pathFile, 'utf8').trim());
    return fs.existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

describe('Electron entry', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-electron-'));

  it('builds main (with the job worker), a CommonJS preload and the renderer', () => {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
    expect(fs.existsSync(path.join(out, 'main/index.js'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'main/jobWorker.js'))).toBe(true);
    const preload = fs.readFileSync(path.join(out, 'preload/index.cjs'), 'utf8');
    expect(preload).toContain('exposeInMainWorld');
    expect(preload).not.toMatch(/^import /m);
    expect(fs.readFileSync(path.join(out, 'renderer/index.html'), 'utf8')).toContain('Content-Security-Policy');
  });

  it.skipIf(!electronBinary())('launches the app, which lists the example runs through the preload', async () => {
    const ws = path.join(out, 'workspace');
    fs.cpSync(path.join(ROOT, 'resources/workspace'), ws, { recursive: true });
    const app = await electron.launch({ executablePath: electronBinary() as string, args: [path.join(out, 'main/index.js'), `--workspace=${ws}`], cwd: ROOT });
    try {
      const win = await app.firstWindow();
      await win.getByRole('link', { name: 'Runs' }).waitFor();
      // Served from the app's own scheme, never file://, with the CSP header on it.
      expect(win.url()).toMatch(/^app:\/\/workbench\//);
      const page = await win.evaluate(async () => {
        const r = await fetch('app://workbench/index.html');
        return { status: r.status, csp: r.headers.get('content-security-policy') };
      });
      expect(page.status).toBe(200);
      expect(page.csp).toContain("default-src 'self'");
      expect(await win.evaluate(() => fetch('app://workbench/%2e%2e/%2e%2e/package.json').then((r) => r.status, () => 0))).not.toBe(200);
      await win.locator('[data-testid="run-row"]').first().waitFor({ timeout: 30_000 });
      expect(await win.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
      expect(await win.evaluate(() => typeof (window as unknown as { workbench?: { analyze?: unknown } }).workbench?.analyze)).toBe('function');
      fs.mkdirSync(path.join(ROOT, 'test-output/screenshots'), { recursive: true });
      await win.screenshot({ path: path.join(ROOT, 'test-output/screenshots/electron-runs.png') });
    } finally {
      await app.close();
    }
  });
});
