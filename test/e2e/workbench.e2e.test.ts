import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, exportFrom, pngSize, screenshot, startSession, viewUrl, type Session } from './harness';

/**
 * The workbench in a real browser (web mode, Debian chromium): every view on the example workspace,
 * a short training watched live, exports checked as files. Set OOCR_SKIP_E2E=1 to skip where no
 * chromium exists; CI installs it, so there they always run.
 */
const skip = process.env.OOCR_SKIP_E2E === '1';
if (!skip && !chromiumAvailable()) throw new Error('chromium is missing (apt-get install chromium), or set OOCR_SKIP_E2E=1');

describe.skipIf(skip)('workbench in chromium (web mode)', () => {
  let s: Session;

  beforeAll(async () => {
    s = await startSession();
  }, 180_000);

  afterAll(async () => {
    await s?.close();
  });

  async function openView(name: string, id: string): Promise<void> {
    await s.page.getByRole('link', { name, exact: true }).click();
    await s.page.locator(`[data-testid="view-${id}"]`).waitFor({ timeout: 30_000 });
    expect(s.page.url()).toContain(`#/${id}`);
  }

  it('opens on Runs and lists the example runs', async () => {
    await s.page.goto(s.url);
    await s.page.locator('[data-testid="view-runs"]').waitFor();
    await s.page.locator('[data-testid="backend-name"]').waitFor({ timeout: 60_000 });
    const ids = await s.page.locator('[data-testid="run-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')));
    for (const id of ['ocr-factorized', 'ocr-combined', 'two-hop', 'world-base', 'lora-vs-steering/lora']) expect(ids).toContain(id);
    await s.page.locator('[data-testid="run-row"][data-run-id="ocr-factorized"]').click();
    await s.page.getByRole('region', { name: /loss/i }).first().locator('svg .recharts-line').first().waitFor({ timeout: 30_000 });
    await screenshot(s.page, 'runs', { readme: true });
  });

  it('every navigation item has its exact name', async () => {
    const names = await s.page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents();
    expect(names).toEqual(['Runs', 'Train', 'Weights', 'Attention', 'Projection', 'LoRA vs Steering', 'Lens & Patching']);
  });
});
