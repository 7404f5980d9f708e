/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { chromiumAvailable, exportFrom, FIGURES, pngSize, screenshot, type Session, useSessions } from './harness';

/**
 * The Sweeps view in a real browser (web mode, Debian chromium): a short sweep started from a pasted
 * spec (a bad one first, its error inline), its cells followed live to the end, the result figure
 * (mean ± sd over seeds, every seed a dot, chance dashed) exported, a dot opening its run in Runs under
 * the sweep's group row; and a sweep cancelled. Waits on what the page shows, never on a clock.
 */
const skip = process.env.OOCR_SKIP_E2E === '1';
if (!skip && !chromiumAvailable()) throw new Error('chromium is missing (apt-get install chromium), or set OOCR_SKIP_E2E=1');

/** The paper's rank sweep, cut down: 4 ranks × 2 seeds, 800 steps (where rank ≥ 4 has reached 1.0 on held-out implications). */
const SPEC = {
  name: 'rank-e2e',
  preset: 'ocr-factorized',
  grid: { ovRank: [1, 2, 4, 16], seed: [0, 1] },
  fixed: { steps: 800, logEvery: 100, checkpointEvery: 400, evalSamples: 200 },
  metrics: ['test_impl_acc', 'test_fact_acc'],
};

describe.skipIf(skip)('Sweeps view in chromium (web mode)', () => {
  let s: Session;
  const session = useSessions();
  beforeEach(async () => {
    s = session();
    await s.page.getByRole('link', { name: 'Sweeps', exact: true }).click();
    await s.page.locator('[data-testid="view-sweeps"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => s.page.url()).toContain('#/sweeps');
  }, 120_000);

  const cells = (status?: string) => s.page.locator(`[data-testid="sweep-cell-row"]${status ? `[data-status="${status}"]` : ''}`);

  it('starts a sweep from a spec, follows its cells, draws and exports the figure, and a dot opens its run', async () => {
    const page = s.page;
    await page.getByTestId('sweep-mode-spec').check();
    const spec = page.getByTestId('sweep-spec');
    const error = page.getByTestId('sweep-spec-error');
    // Broken JSON, then an unknown override: each error inline, Start disabled.
    await spec.fill('{ "name": "x", ');
    await expect.poll(() => error.textContent(), { timeout: 30_000 }).toMatch(/not valid JSON/);
    await spec.fill(JSON.stringify({ ...SPEC, grid: { rnak: [1, 2] } }, null, 2));
    await expect.poll(() => error.textContent(), { timeout: 30_000 }).toMatch(/grid\.rnak: unknown override 'rnak'/);
    expect(await page.getByTestId('sweep-start').isDisabled()).toBe(true);
    await spec.fill(JSON.stringify(SPEC, null, 2));
    await expect.poll(() => page.getByTestId('sweep-plan').textContent(), { timeout: 30_000 }).toMatch(/^8 cells of ocr-factorized into sweeps\/rank-e2e/);
    await page.getByTestId('sweep-start').click();

    // Every cell listed at once, then each completes; the table shows steps, worker and metrics.
    await expect.poll(() => cells().count(), { timeout: 60_000 }).toBe(8);
    await expect.poll(() => cells('completed').count(), { timeout: 420_000 }).toBe(8);
    const first = cells().first();
    expect(await first.getAttribute('data-cell')).toBe('ovRank-1_seed-0');
    expect(await first.textContent()).toMatch(/800 \/ 800/);
    expect(await first.textContent()).toMatch(/local/);
    await expect.poll(() => page.getByTestId('sweep-summary').textContent(), { timeout: 30_000 }).toMatch(/8 \/ 8 completed/);

    // The figure: six seeds as dots, three means with error bars, chance dashed, ranks on a log axis.
    const fig = page.getByTestId('sweep-figure');
    await expect.poll(() => fig.locator('[data-testid="sweep-point"]').count(), { timeout: 30_000 }).toBe(8);
    expect(await fig.locator('.recharts-errorBar').count()).toBeGreaterThan(0);
    expect(await fig.locator('.sweep-chance').count()).toBe(1);
    expect(await fig.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents()).toEqual(['1', '2', '4', '16']);
    expect(await fig.locator('.panel__caption').textContent()).toMatch(/mean ± 1 sd over seeds/);
    expect(await fig.locator('.panel__caption').textContent()).toMatch(/log scale/);

    const csv = fs.readFileSync((await exportFrom(s, 'Sweep result', 'CSV')).file, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('kind,ovRank,seed,test_impl_acc,test_impl_acc_sd,n,cell');
    expect(csv.filter((l) => l.startsWith('cell,'))).toHaveLength(8);
    // What the paper's figure shows: rank 1 stays near chance (1/20), rank ≥ 4 generalises.
    const means = new Map(csv.filter((l) => l.startsWith('mean,')).map((l) => [Number(l.split(',')[1]), Number(l.split(',')[3])]));
    expect([...means.keys()]).toEqual([1, 2, 4, 16]);
    expect(means.get(1)).toBeLessThan(0.3);
    expect(means.get(4)).toBeGreaterThan(0.6);
    expect(means.get(16)).toBeGreaterThan(0.9);
    const svgFile = (await exportFrom(s, 'Sweep result', 'SVG')).file;
    const svg = fs.readFileSync(svgFile, 'utf8');
    expect(svg).toMatch(/^(<\?xml[^>]*>\s*)?<svg/);
    expect((svg.match(/class="sweep-point"/g) ?? []).length).toBe(8);
    expect(svg).toContain('chance');
    fs.mkdirSync(FIGURES, { recursive: true });
    fs.copyFileSync(svgFile, path.join(FIGURES, 'sweep-result.svg'));
    // Kept in test-output/figures only (docs/figures is the gallery of figures.e2e.test.ts).
    const png = (await exportFrom(s, 'Sweep result', 'PNG')).file;
    expect(pngSize(png).width).toBeGreaterThan(700);
    fs.copyFileSync(png, path.join(FIGURES, 'sweep-result.png'));
    await page.getByTestId('view-sweeps').evaluate((el) => el.scrollIntoView());
    await screenshot(page, 'sweeps', { readme: true, height: 1300 });

    // A dot opens its cell's run in Runs, selected, inside its sweep's group row.
    await fig.locator('[data-testid="sweep-point"][data-cell="ovRank-16_seed-1"]').click();
    await page.locator('[data-testid="view-runs"]').waitFor({ timeout: 30_000 });
    const row = page.locator('[data-testid="run-row"][data-run-id="sweeps/rank-e2e/runs/ovRank-16_seed-1"]');
    await expect.poll(() => row.getAttribute('aria-selected'), { timeout: 30_000 }).toBe('true');
    const group = page.locator('[data-testid="sweep-group-row"][data-sweep="rank-e2e"]');
    expect(await group.getByTestId('sweep-group-count').textContent()).toBe('8/8 completed');
    // The run's card and curves, as for any run.
    await page.getByTestId('runs-acc-chart').locator('svg .recharts-line').first().waitFor({ timeout: 30_000 });
    // Collapsed: one row for the sweep, none for its cells.
    await group.getByTestId('sweep-group-toggle').click();
    expect(await page.locator('[data-testid="run-row"][data-run-id^="sweeps/"]').count()).toBe(0);
    await screenshot(page, 'runs-sweep-group');
  }, 900_000);

  it('one line per value of a second swept variable (factorized vs combined over the trained fraction), and the metric picker', async () => {
    const page = s.page;
    const spec = {
      name: 'fraction-e2e',
      preset: 'ocr-factorized',
      grid: { preset: ['ocr-factorized', 'ocr-combined'], 'taskOptions.trainFraction': [0.1, 0.5], seed: [0, 1] },
      fixed: { steps: 800, logEvery: 100, checkpointEvery: 400, evalSamples: 200 },
      metrics: ['test_impl_acc', 'test_fact_acc'],
    };
    await page.getByTestId('sweep-mode-spec').check();
    await page.getByTestId('sweep-spec').fill(JSON.stringify(spec, null, 2));
    await expect.poll(() => page.getByTestId('sweep-plan').textContent(), { timeout: 30_000 }).toMatch(/^8 cells of ocr-factorized into sweeps\/fraction-e2e/);
    await page.getByTestId('sweep-start').click();
    await expect.poll(() => cells('completed').count(), { timeout: 420_000 }).toBe(8);
    const fig = page.getByTestId('sweep-figure');
    await expect.poll(() => fig.locator('[data-testid="sweep-point"]').count(), { timeout: 30_000 }).toBe(8);
    // Two lines, named by the preset; the fraction on a linear axis (0.5 / 0.1 < 8).
    expect(await fig.locator('.sweep-mean').count()).toBe(2);
    expect(await fig.locator('ul[aria-label="Legend"] li').allTextContents()).toEqual(['preset ocr-factorized', 'preset ocr-combined', 'each seed (dot)', 'chance']);
    expect(await fig.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents()).toEqual(['0.1', '0.5']);
    expect(await fig.locator('.panel__caption').textContent()).not.toMatch(/log scale/);
    expect(await fig.locator('.panel__caption').textContent()).toMatch(/one line per preset/);
    const csv = fs.readFileSync((await exportFrom(s, 'Sweep result', 'CSV')).file, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('kind,preset,taskOptions.trainFraction,seed,test_impl_acc,test_impl_acc_sd,n,cell');
    expect(csv.filter((l) => l.startsWith('mean,'))).toHaveLength(4);
    await page.getByTestId('view-sweeps').evaluate((el) => el.scrollIntoView());
    await screenshot(page, 'sweeps-two-series', { readme: true, height: 1300 });
    // Another metric: chance is the task's for its headline metric only, so no chance line for facts.
    await page.getByTestId('sweep-metric').selectOption('test_fact_acc');
    await expect.poll(() => fig.locator('.sweep-chance').count(), { timeout: 30_000 }).toBe(0);
    expect(await fig.locator('.panel__caption').textContent()).toMatch(/^held-out facts \(test_fact_acc\)/);
  }, 900_000);

  it('cancels a running sweep: the running cell stops (cancelled, resumable), the others never start', async () => {
    const page = s.page;
    await page.getByTestId('sweep-preset').selectOption('smoke');
    await page.getByTestId('sweep-name').fill('long');
    await page.getByTestId('sweep-steps').fill('100000');
    await page.getByTestId('sweep-workers').fill('1');
    await expect.poll(() => page.getByTestId('sweep-plan').textContent(), { timeout: 30_000 }).toMatch(/^2 cells of ocr-factorized into sweeps\/long, 1 at a time/);
    await page.getByTestId('sweep-start').click();
    await expect.poll(() => cells('running').count(), { timeout: 120_000 }).toBe(1);
    await expect.poll(async () => Number(/^(\d+) \//.exec(((await cells('running').locator('.sweeps__step').textContent()) ?? '').trim())?.[1] ?? 0), { timeout: 120_000 }).toBeGreaterThan(0);
    await page.getByTestId('sweep-cancel').click();
    await expect.poll(() => cells('cancelled').count(), { timeout: 120_000 }).toBe(1);
    expect(await cells('pending').count()).toBe(1);
    await expect.poll(() => page.getByTestId('sweep-cancel').count(), { timeout: 30_000 }).toBe(0);
  }, 300_000);
});
