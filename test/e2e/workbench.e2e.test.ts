/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { chromiumAvailable, exportFrom, nextFrames, pngSize, screenshot, type Session, SHOTS, useSessions } from './harness';

/**
 * The workbench in a real browser (web mode, Debian chromium): every view on the example workspace,
 * a short training watched live, exports checked as files. Each test has its own server over a fresh
 * copy of the example workspace and its own browser context, and waits on what the page shows, never
 * on a clock. Set OOCR_SKIP_E2E=1 to skip where no chromium exists; CI installs it, so there they
 * always run.
 */
const skip = process.env.OOCR_SKIP_E2E === '1';
if (!skip && !chromiumAvailable()) throw new Error('chromium is missing (apt-get install chromium), or set OOCR_SKIP_E2E=1');

describe.skipIf(skip)('workbench in chromium (web mode)', () => {
  let s: Session;
  const session = useSessions();
  beforeEach(() => {
    s = session();
  });

  async function openView(name: string, id: string): Promise<void> {
    await s.page.getByRole('link', { name, exact: true }).click();
    await s.page.locator(`[data-testid="view-${id}"]`).waitFor({ timeout: 30_000 });
    await expect.poll(() => s.page.url()).toContain(`#/${id}`);
  }

  /** Text of an element once it exists ('' while it does not). */
  async function text(selector: string): Promise<string> {
    const el = s.page.locator(selector).first();
    return (await el.count()) ? ((await el.textContent()) ?? '') : '';
  }

  it('opens on Runs and lists the example runs', async () => {
    await s.page.locator('[data-testid="backend-name"]').waitFor({ timeout: 60_000 });
    const rows = s.page.locator('[data-testid="run-row"]');
    await rows.first().waitFor({ timeout: 30_000 });
    const ids = () => rows.evaluateAll((els) => els.map((r) => r.getAttribute('data-run-id')));
    for (const id of ['ocr-factorized', 'ocr-combined', 'two-hop', 'world-base', 'lora-vs-steering/lora']) await expect.poll(ids, { timeout: 30_000 }).toContain(id);
    await s.page.locator('[data-testid="run-row"][data-run-id="ocr-factorized"]').click();
    await s.page.getByRole('region', { name: /loss/i }).first().locator('svg .recharts-line').first().waitFor({ timeout: 30_000 });
    await screenshot(s.page, 'runs', { readme: true });
  });

  it('Runs: several compared runs in their own line styles, and seeds grouped as mean ± sd', async () => {
    const row = (id: string) => s.page.locator(`[data-testid="run-row"][data-run-id="${id}"]`);
    const acc = s.page.locator('[data-testid="runs-acc-chart"]');
    const legend = () => acc.locator('ul[aria-label="Legend"] li').allTextContents();
    await row('ocr-factorized').click();
    await row('ocr-combined').locator('[data-testid="run-compare"]').check();
    await row('ocr-factorized-r128').locator('[data-testid="run-compare"]').check();
    // Three runs in the accuracy panel's legend, each named with its line style; colours stay per metric.
    await expect.poll(legend, { timeout: 30_000 }).toEqual(expect.arrayContaining(['ocr-factorized (solid)', 'ocr-combined (dashed)', 'ocr-factorized-r128 (dotted)']));
    expect((await legend()).filter((t) => / \((solid|dashed|dotted|dash-dot|long dash)\)$/.test(t))).toHaveLength(3);
    await expect.poll(() => acc.locator('.recharts-line').count(), { timeout: 30_000 }).toBe(12); // 4 splits × 3 runs
    expect(await acc.locator('.recharts-line-curve[stroke-dasharray]').count()).toBe(8);
    expect(await text('[data-testid="runs-comparing"]')).toMatch(/ocr-combined \(dashed\), ocr-factorized-r128 \(dotted\)/);
    // They differ in more than their seed: no grouping offered.
    expect(await s.page.locator('[data-testid="runs-seed-group"]').isDisabled()).toBe(true);
    const csv = fs.readFileSync((await exportFrom(s, /Accuracy by split/, 'CSV')).file, 'utf8').trim().split('\n');
    expect(csv[0].split(',')).toEqual(expect.arrayContaining(['test_impl_acc · ocr-factorized', 'test_impl_acc · ocr-combined (dashed)', 'test_impl_acc · ocr-factorized-r128 (dotted)']));
    await s.page.locator('[data-testid="view-runs"]').evaluate((el) => el.scrollIntoView());
    await screenshot(s.page, 'runs-compare-three', { height: 1500 });

    // The study's two steering runs differ only in their seed (0, 1000): mean ± 1 sd over them, each seed thin.
    await s.page.locator('[data-testid="runs-comparing"]').getByRole('button', { name: 'Clear' }).click();
    await row('lora-vs-steering/steer').click();
    await row('lora-vs-steering/steer-seed2').locator('[data-testid="run-compare"]').check();
    const group = s.page.locator('[data-testid="runs-seed-group"]');
    await expect.poll(() => group.isEnabled(), { timeout: 30_000 }).toBe(true);
    expect(await s.page.locator('.runs__seed-group').textContent()).toMatch(/mean ± sd over 2 seeds/);
    await group.check();
    await expect
      .poll(legend, { timeout: 30_000 })
      .toEqual(expect.arrayContaining(['mean of 2 seeds (solid)', '± 1 sd (band)', 'lora-vs-steering/steer, lora-vs-steering/steer-seed2 (thin)']));
    await expect.poll(() => acc.locator('.recharts-area').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await acc.locator('.panel__caption').first().textContent()).toMatch(/mean ± 1 sd over 2 seeds/);
    const seedCsv = fs.readFileSync((await exportFrom(s, /Accuracy by split/, 'CSV')).file, 'utf8').trim().split('\n');
    expect(seedCsv[0].split(',')).toEqual(
      expect.arrayContaining(['heldout_acc · lora-vs-steering/steer', 'heldout_acc · lora-vs-steering/steer-seed2', 'heldout_acc · mean', 'heldout_acc · sd', 'heldout_acc · n']),
    );
    const n = seedCsv[0].split(',').indexOf('heldout_acc · n');
    expect(seedCsv.slice(1).map((l) => l.split(',')[n])).toContain('2');
    await s.page.locator('[data-testid="view-runs"]').evaluate((el) => el.scrollIntoView());
    await screenshot(s.page, 'runs-seeds', { height: 1500 });
  });

  it('every navigation item has its exact name', async () => {
    const names = () => s.page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents();
    await expect.poll(names).toEqual(['Runs', 'Train', 'Weights', 'Attention', 'Projection', 'LoRA vs Steering', 'Lens & Patching', 'SAE', 'Sweeps']);
  });

  it('Weights: the caption says what the plot shows (spectral shape, effective rank), not that nuclear norms of different parametrisations compare', async () => {
    await openView('Weights', 'weights');
    const caption = () => text('[data-testid="view-weights"] > .panel__caption');
    await expect.poll(caption, { timeout: 30_000 }).toMatch(/\w/);
    expect(await caption()).not.toMatch(/minimises the OV matrix’s nuclear norm|minimises the Frobenius norm|stays high-rank/);
    expect(await caption()).toMatch(/shape/);
    expect(await caption()).toMatch(/effective rank/);
    expect(await caption()).toMatch(/nuclear norms[^.]*do not compare/);
  });

  /** Horizontal span of the markers matching `dots` inside `panel`, as a fraction of that panel's plot width (0 while none are drawn). */
  async function markerSpan(panel: string, dots: string): Promise<number> {
    return s.page.locator(panel).first().evaluate((el, sel) => {
      const grid = el.querySelector('.recharts-cartesian-grid')?.getBoundingClientRect();
      const xs = Array.from(el.querySelectorAll(sel)).map((c) => {
        const r = c.getBoundingClientRect();
        return r.x + r.width / 2;
      });
      return grid && xs.length ? (Math.max(...xs) - Math.min(...xs)) / grid.width : 0;
    }, dots);
  }

  it('Weights: the r = 8 spectrum is drawn readably, its 8 markers spanning more than a third of the plot', async () => {
    await openView('Weights', 'weights');
    // The left column's own spectrum (the factorized r = 8 run by default).
    const left = '[data-testid="weights-column"][data-side="left"] [data-testid="weights-sv-panel"]';
    await expect.poll(() => s.page.locator(`${left} circle.recharts-line-dot`).count(), { timeout: 60_000 }).toBe(8);
    expect(await markerSpan(left, 'circle.recharts-line-dot')).toBeGreaterThan(1 / 3);
    // The comparison: recharts draws markers in a layer of their own; each carries its run's class.
    const shape = '[data-testid="weights-shape-panel"]';
    await expect.poll(() => s.page.locator(`${shape} .weights-shape-dot--ocr-factorized`).count(), { timeout: 60_000 }).toBe(8);
    expect(await markerSpan(shape, '.weights-shape-dot--ocr-factorized')).toBeGreaterThan(1 / 3);
  });

  it('Weights: factorized r = 8, r = 128 and combined compared by normalised spectra and effective rank, exported as PNG, SVG and CSV', async () => {
    await openView('Weights', 'weights');
    // By default the three OCR runs are compared: factorized r = 8, factorized r = d_model = 128, combined.
    const rankRow = (run: string) => s.page.locator(`[data-testid="weights-rank-row"][data-run="${run}"]`);
    const erank = async (run: string) => Number(((await rankRow(run).locator('[data-testid="weights-erank"]').textContent()) ?? '').trim());
    for (const run of ['ocr-factorized', 'ocr-factorized-r128', 'ocr-combined']) await rankRow(run).waitFor({ timeout: 60_000 });
    await expect.poll(() => s.page.locator('[data-testid="weights-rank-row"]').count()).toBe(3);
    // Effective ranks (exp of the entropy of σ/Σσ) at step 2000: 7.84, 29.85, 33.53, shown to one decimal.
    expect(await erank('ocr-factorized')).toBe(7.8);
    expect(await erank('ocr-factorized-r128')).toBe(29.8);
    expect(await erank('ocr-combined')).toBe(33.5);
    expect(await rankRow('ocr-factorized').locator('[data-testid="weights-rank1pct"]').textContent()).toMatch(/^8 \/ 128$/);
    // One normalised spectrum (σ_k / σ₁) per run, and the effective rank over training of each.
    const shape = s.page.locator('[data-testid="weights-shape-panel"]');
    await expect.poll(() => shape.locator('.weights-shape-line').count(), { timeout: 30_000 }).toBe(3);
    expect(await shape.locator('svg.recharts-surface').first().textContent()).toMatch(/σₖ \/ σ₁/);
    await expect.poll(() => s.page.locator('[data-testid="weights-erank-panel"] .recharts-line').count(), { timeout: 30_000 }).toBe(3);

    // The two columns below: the factorized and the combined run, each learning its OV form from the run's config.
    const cols = s.page.locator('[data-testid="weights-column"]');
    await expect.poll(() => cols.count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(async () => (await s.page.locator('[data-testid="weights-ov-kind"]').allTextContents()).join(' | '), { timeout: 30_000 }).toMatch(/factorized.*\|.*combined/);
    const rankTexts = () => s.page.locator('[data-testid="weights-effective-rank"]').allTextContents();
    await expect.poll(async () => (await rankTexts()).length === 2 && (await rankTexts()).every((t) => /\d/.test(t)), { timeout: 30_000 }).toBe(true);
    expect((await rankTexts()).map(Number)).toEqual([7.8, 33.5]);
    await expect.poll(() => s.page.locator('[data-testid="weights-sv-panel"] .recharts-line').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await screenshot(s.page, 'weights', { readme: true });

    const png = await exportFrom(s, /Spectral shape/, 'PNG');
    const size = pngSize(png.file);
    expect(size.width).toBeGreaterThan(600); // 2x the on-screen chart
    const svg = await exportFrom(s, /Spectral shape/, 'SVG');
    const svgText = fs.readFileSync(svg.file, 'utf8');
    expect(svg.suggested).toMatch(/\.svg$/);
    expect(svgText).toMatch(/^<\?xml[^]*<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect((svgText.match(/<path /g) ?? []).length).toBeGreaterThanOrEqual(3); // one line per run
    expect((svgText.match(/<text /g) ?? []).length).toBeGreaterThan(5); // tick labels, title, legend
    // The CSVs keep the raw values beside the normalised ones.
    const spectra = fs.readFileSync((await exportFrom(s, /Spectral shape/, 'CSV')).file, 'utf8').trim().split('\n');
    expect(spectra[0]).toBe('run,step,layer,head,index,singular_value,sigma_over_sigma1,sigma_over_sum');
    expect(spectra.length).toBe(1 + 3 * 8 * 128);
    const ranks = fs.readFileSync((await exportFrom(s, /Effective rank over training/, 'CSV')).file, 'utf8').trim().split('\n');
    expect(ranks[0]).toMatch(/^run,step,layer,head,nuclear_norm,frobenius_norm,sigma_1,nuclear_over_frobenius,effective_rank_entropy,/);
    expect(ranks.length).toBe(1 + 3 * 8);
    const csv = await exportFrom(s, /Nuclear \/ Frobenius/, 'CSV');
    expect(fs.readFileSync(csv.file, 'utf8').trim().split('\n').length).toBeGreaterThan(8);
  });

  it('LoRA vs Steering: the study panels side by side, means over all tokens, a position picker, accuracies with intervals, heatmap exported as vector SVG', async () => {
    await openView('LoRA vs Steering', 'lora-steering');
    await s.page.locator('[data-testid="lora-cos-heatmap"] canvas').waitFor({ timeout: 30_000 });
    for (const id of ['lora-pc1-panel', 'lora-steering-panel', 'lora-accuracy-panel', 'lora-deltaw-panel', 'lora-layer-sweep-panel', 'lora-token-cos-panel', 'lora-seeds-panel']) {
      await s.page.locator(`[data-testid="${id}"] .recharts-surface`).first().waitFor({ timeout: 30_000 });
    }
    // The first study (locations, seed 0). Its caption's means are over all 768 token deltas, as the
    // record has them, and agree with the PC1 panel's per-set mean |cos| (0.81 training, 0.64 unrelated).
    const record = JSON.parse(fs.readFileSync('resources/workspace/lora-vs-steering/analyses/lora_vs_steering.json', 'utf8')) as {
      cos_block_means: { train: number; unrelated: number; across: number };
      deltas: { train: { meanAbsCos: number }; unrelated: { meanAbsCos: number } };
    };
    const m = record.cos_block_means;
    expect(await text('[data-testid="lora-cos-means"]')).toBe(
      `Mean off-diagonal |cos| over all 768 tokens (384 training, 384 unrelated), not just this sample: train×train ${m.train.toFixed(2)}, unrelated×unrelated ${m.unrelated.toFixed(2)}, across ${m.across.toFixed(2)}.`,
    );
    expect([m.train, m.unrelated]).toEqual([record.deltas.train.meanAbsCos, record.deltas.unrelated.meanAbsCos]);
    expect(await text('[data-testid="lora-cos-means"]')).toContain('train×train 0.81, unrelated×unrelated 0.64, across 0.68');
    // The sample covers every position, the read-out (5) marked.
    const boxes = s.page.locator('[data-testid="lora-cos-positions"] input[type="checkbox"]');
    expect(await boxes.count()).toBe(6);
    expect(await s.page.locator('[data-testid="lora-cos-pos-5"]').getAttribute('data-readout')).toBe('true');
    expect(await text('[data-testid="lora-cos-shown"]')).toBe('All 48 sampled tokens, positions 0, 1, 2, 3, 4, 5 (read-out).');
    const cells = () => s.page.locator('[data-testid="lora-cos-heatmap"] canvas').evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
    expect(await cells()).toEqual([48, 48]);
    // Accuracies with Wilson intervals (table and error bars), and which questions they come from.
    expect(await text('[data-testid="lora-accuracy-ci"] thead')).toBe('95% CIheld-out (n = 800)side effects (n = 1600)');
    expect(await text('[data-testid="lora-accuracy-ci"] tr[data-method="lora"]')).toBe('LoRA1.000 [0.995, 1.000]0.927 [0.913, 0.939]');
    expect(await text('[data-testid="lora-accuracy-source"]')).toMatch(/^Study evaluation: 800 fresh held-out questions \(heldout_country 400, heldout_language 400\) and 1600 side-effect questions .*seed 0, .*The Runs view’s accuracy of each fine-tune run is that run’s own final evaluation/);
    await expect.poll(() => s.page.locator('[data-testid="lora-accuracy-panel"] .recharts-errorBar').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await text('[data-testid="lora-seeds-ci"]')).toMatch(/^seed 0: held-out 1\.000 \[0\.995, 1\.000\] \(n = 800\), side effects 0\.975 \[0\.966, 0\.982\] \(n = 1600\)/);
    await screenshot(s.page, 'lora-vs-steering', { readme: true, height: 1500 });
    await s.page.locator('[data-testid="lora-accuracy-panel"]').screenshot({ path: path.join(SHOTS, 'lora-vs-steering-accuracy.png') });
    const svg = await exportFrom(s, /\|cos\|/, 'SVG');
    const text0 = fs.readFileSync(svg.file, 'utf8');
    const rects = (t: string) => (t.match(/<rect /g) ?? []).length;
    expect(rects(text0)).toBeGreaterThan(48 * 48); // one rect per cell
    const png = await exportFrom(s, /\|cos\|/, 'PNG');
    expect(pngSize(png.file).width).toBeGreaterThan(400);
    const accCsv = fs.readFileSync((await exportFrom(s, /Held-out accuracy/, 'CSV')).file, 'utf8').trim().split('\n');
    expect(accCsv[0]).toBe('method,measure,acc,acc_lo,acc_hi,n,chance');
    expect(accCsv).toHaveLength(1 + 8);

    // Only the read-out position: 4 training and 4 unrelated tokens, rows and columns alike.
    for (const p of [0, 1, 2, 3, 4]) await s.page.locator(`[data-testid="lora-cos-pos-${p}"]`).uncheck();
    await expect.poll(() => text('[data-testid="lora-cos-shown"]')).toBe('8 of 48 sampled tokens, position 5 (read-out).');
    expect(await cells()).toEqual([8, 8]);
    expect(await s.page.locator('[data-testid="lora-cos-pos-5"]').isDisabled()).toBe(true); // the last one stays
    const rowLabels = await s.page.locator('[data-testid="lora-cos-heatmap"] svg[data-figure] text').allTextContents();
    expect(rowLabels.filter((l) => /^[TU]\d+ /.test(l))).toEqual(['T6 end@5', 'T12 end@5', 'T18 end@5', 'T24 end@5', 'U6 end@5', 'U12 end@5', 'U18 end@5', 'U24 end@5']);
    await s.page.locator('[data-testid="lora-cos-heatmap"]').screenshot({ path: path.join(SHOTS, 'lora-vs-steering-readout.png') });
    // The exports follow the picker; the caption's means do not (they are over all tokens).
    const filtered = fs.readFileSync((await exportFrom(s, /\|cos\|/, 'SVG')).file, 'utf8');
    expect(rects(text0) - rects(filtered)).toBe(48 * 48 - 8 * 8);
    const cosCsv = fs.readFileSync((await exportFrom(s, /\|cos\|/, 'CSV')).file, 'utf8').trim().split('\n');
    expect(cosCsv).toHaveLength(1 + 64);
    expect(await text('[data-testid="lora-cos-means"]')).toContain('train×train 0.81, unrelated×unrelated 0.64, across 0.68');
    await s.page.locator('[data-testid="lora-cos-pos-all"]').click();
    await expect.poll(() => text('[data-testid="lora-cos-shown"]')).toBe('All 48 sampled tokens, positions 0, 1, 2, 3, 4, 5 (read-out).');
  });

  /**
   * The run both attention checkpoints show, once each has its heatmaps drawn and nothing is loading
   * ('' until then): every panel's caption starts with its data's run id.
   */
  async function shownRun(): Promise<string> {
    return s.page.locator('[data-testid="view-attention"]').evaluate((view) => {
      const sides = Array.from(view.querySelectorAll('[data-testid="attention-checkpoint"]'));
      if (!sides.length || view.querySelector('.view__loading')) return '';
      const ids = sides.map((side) => {
        if (!side.querySelector('[data-testid="attention-head"] canvas') || /Updating \(/.test(side.textContent ?? '')) return '';
        return /^(\S+) · prompt/.exec(side.querySelector('.panel__caption')?.textContent ?? '')?.[1] ?? '';
      });
      return ids.every((id) => id === ids[0]) ? ids[0] : '';
    });
  }

  it('Attention: two checkpoints side by side with token-labelled heads; a bad prompt is reported inline', async () => {
    await openView('Attention', 'attention');
    await s.page.locator('[data-testid="attention-run"]').selectOption('world-base');
    const sides = s.page.locator('[data-testid="attention-checkpoint"]');
    await expect.poll(() => sides.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await s.page.locator('[data-testid="attention-head"] canvas').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => shownRun(), { timeout: 60_000 }).toBe('world-base');
    await expect.poll(() => s.page.locator('[data-testid="attention-head"]').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(8);
    await s.page.locator('[data-testid="attention-run"]').selectOption('ocr-factorized');
    await expect.poll(() => s.page.locator('[data-testid="attention-checkpoint"]').count(), { timeout: 30_000 }).toBe(2);
    // Both sides show the new run's patterns (not the previous run's, dimmed while loading).
    await expect.poll(() => shownRun(), { timeout: 60_000 }).toBe('ocr-factorized');
    const steps = await s.page.locator('[data-testid="attention-checkpoint"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    expect(steps[0]).not.toBe(steps[1]);
    await s.page.locator('[data-testid="attention-head"] canvas').first().waitFor({ timeout: 30_000 });
    await screenshot(s.page, 'attention', { readme: true });
    await s.page.locator('[data-testid="attention-prompt-input"]').fill('name_3 rel_nonsense end');
    await s.page.locator('[data-testid="attention-prompt-error"]').waitFor({ timeout: 10_000 });
    expect(await s.page.locator('[data-testid="attention-prompt-error"]').textContent()).toContain('rel_nonsense');
    const svg = await exportFrom(s, /.+/, 'SVG');
    expect(fs.readFileSync(svg.file, 'utf8')).toContain('L0H0');
  });

  /** The run whose lens the Lens & Patching view shows, once nothing in it is loading ('' until then). */
  async function lensShown(): Promise<string> {
    return s.page.locator('[data-testid="view-lens-patching"]').evaluate((view) => {
      if (view.querySelector('.view__loading')) return '';
      return /(?:^|\s)(\S+), step \d+: prompt/.exec((view as HTMLElement).innerText)?.[1] ?? '';
    });
  }

  it('Lens & Patching: logit lens, attribution and both patching maps on the world model', async () => {
    await openView('Lens & Patching', 'lens-patching');
    await s.page.locator('[data-testid="lens-run"]').selectOption('world-base');
    for (const id of ['lens-heatmap', 'patching-resid', 'patching-heads']) await s.page.locator(`[data-testid="${id}"] canvas`).first().waitFor({ timeout: 60_000 });
    await s.page.locator('[data-testid="lens-dla"] .recharts-surface').waitFor({ timeout: 30_000 });
    // Everything shown is world-base's (the view opened on another run) and nothing is still loading.
    await expect.poll(() => lensShown(), { timeout: 60_000 }).toBe('world-base');
    for (const id of ['lens-heatmap', 'patching-resid', 'patching-heads']) await s.page.locator(`[data-testid="${id}"] canvas`).first().waitFor({ timeout: 30_000 });
    // Direct logit attribution decomposes the logit difference answer − wrong: the model is sure of
    // dist_1 (p = 1), so the difference is positive (the raw logit, −149, has every component "lower"
    // the answer), and the components (with the bias no component writes) sum to it.
    const dla = await exportFrom(s, /direct logit attribution/i, 'CSV');
    const rows = fs.readFileSync(dla.file, 'utf8').trim().split('\n').map((l) => l.split(','));
    const total = Number(rows.find((r) => r[1] === 'total')?.[4]);
    const parts = rows.slice(1).filter((r) => r[1] !== 'total' && r[1] !== 'sum');
    expect(total).toBeGreaterThan(10);
    expect(parts.map((r) => r[0])).toEqual(expect.arrayContaining(['MLP0', 'MLP1', 'L1H3', 'bias']));
    expect(Math.abs(parts.reduce((sum, r) => sum + Number(r[4]), 0) - total) / Math.abs(total)).toBeLessThan(1e-3);
    // The export and the caption say what is attributed, naming both tokens.
    expect(rows[0]).toEqual(['component', 'kind', 'layer', 'head', 'value', 'attribution']);
    for (const r of rows.slice(1)) expect(r[5]).toMatch(/^logit difference dist_1 − dist_\d$/);
    expect(await text('[data-testid="dla-attribution"]')).toMatch(/Attribution: logit difference dist_1 − dist_\d \(dist_\d: the most likely other answer of world_dist\)/);
    // The default held-out prompt's true answer, with the prediction beside it.
    expect(await text('[data-testid="lens-answer-value"]')).toBe('dist_1');
    expect(await text('[data-testid="lens-answer-source"]')).toContain("the task's true answer, world_dist");
    expect(await text('[data-testid="lens-prediction"]')).toBe('dist_1');
    // Patching states both answers: the corruption swaps the subject so the true answer changes.
    expect(await text('[data-testid="patching-answers"]')).toMatch(/Clean answer dist_1 \(true answer, world_dist\), corrupted answer dist_\d \(true answer, world_dist\)/);
    expect(await text('[data-testid="patching-wrong"]')).not.toBe('dist_1');
    await screenshot(s.page, 'lens-patching', { readme: true, height: 1500 });
    const csv = await exportFrom(s, /patching: residual/i, 'CSV');
    expect(fs.readFileSync(csv.file, 'utf8').split('\n')[0]).toMatch(/layer/);
  });

  it('Lens & Patching: on a held-out ocr-combined prompt the answer is the task’s, and patching’s corruption changes it', async () => {
    await openView('Lens & Patching', 'lens-patching');
    await s.page.locator('[data-testid="lens-run"]').selectOption('ocr-combined');
    await expect.poll(() => lensShown(), { timeout: 60_000 }).toBe('ocr-combined');
    await expect.poll(() => text('[data-testid="patching-clean"]'), { timeout: 60_000 }).toContain('name_20');
    // The default prompt is a held-out implication (name_20 → city_0 → animal_0) the combined model gets
    // wrong: the lens tracks the task's true answer, animal_0, not the prediction, animal_7, ...
    expect(await text('[data-testid="lens-ranks"] th:nth-child(3)')).toBe('rank of animal_0');
    expect(await text('[data-testid="lens-answer-value"]')).toBe('animal_0');
    expect(await text('[data-testid="lens-answer-source"]')).toContain("the task's true answer, test_impl");
    // ... which is shown beside it.
    expect(await text('[data-testid="lens-prediction"]')).toBe('animal_7');
    expect(await text('[data-testid="dla-attribution"]')).toContain('logit difference animal_0 − animal_7');
    // Patching calls the true answer the clean answer, and the corrupted prompt (another held-out name,
    // of another city) has another true answer.
    expect(await text('[data-testid="patching-answer"]')).toBe('animal_0');
    expect(await text('[data-testid="patching-wrong"]')).toMatch(/^animal_(?!0$)\d+$/);
    expect(await text('[data-testid="patching-answers"]')).toMatch(/Clean answer animal_0 \(true answer, test_impl\), corrupted answer animal_\d+ \(true answer, test_impl\) · the model predicts animal_7 → animal_\d+/);
    expect(await text('[data-testid="patching-corrupted"]')).toMatch(/name_(?!20\b)\d+/);
    expect(await text('[data-testid="patching-unstable"]')).toContain('does not give the clean answer here (it predicts animal_7)');
    await screenshot(s.page, 'lens-patching-ocr-combined', { height: 1500 });
  });

  /** The projection panel's title once its data is shown and not being recomputed ('' until then). */
  async function projectionShown(): Promise<string> {
    return s.page.locator('[data-testid="view-projection"]').evaluate((view) => {
      const panel = view.querySelector('[data-testid="projection-panel"]');
      if (!panel || view.querySelector('.projection__busy, .view__loading')) return '';
      return panel.getAttribute('aria-label') ?? '';
    });
  }

  it('Projection: a WebGL scatter with a legend, hover labels, orbit, base→LoRA arrows and a 2× PNG', async () => {
    await openView('Projection', 'projection');
    await s.page.locator('[data-testid="projection-run"]').selectOption('world-base');
    const canvas = s.page.locator('[data-testid="projection-canvas"] canvas').first();
    await canvas.waitFor({ timeout: 30_000 });
    // The figure is world-base's (the view may have opened on another run first) and is not being recomputed.
    await expect.poll(() => projectionShown(), { timeout: 60_000 }).toMatch(/^3D projection: world-base,/);
    await s.page.locator('[data-testid="projection-legend"] li, [data-testid="projection-legend"] [role="listitem"], [data-testid="projection-legend"] button').first().waitFor({ timeout: 60_000 });
    await expect.poll(() => text('[data-testid="projection-variance"]'), { timeout: 30_000 }).toMatch(/%/);
    await nextFrames(s.page);
    // The canvas is not blank: WebGL drew coloured points on the white background.
    const colours = await canvas.evaluate((c: HTMLCanvasElement) => {
      const probe = document.createElement('canvas');
      probe.width = c.width;
      probe.height = c.height;
      const ctx = probe.getContext('2d') as CanvasRenderingContext2D;
      ctx.drawImage(c, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i] >> 4) * 256 + (d[i + 1] >> 4) * 16 + (d[i + 2] >> 4));
      return seen.size;
    });
    expect(colours).toBeGreaterThan(5);
    // Hover: sweep the pointer until a point's label shows.
    const box = (await canvas.boundingBox())!;
    let shown = false;
    for (let i = 0; i < 40 && !shown; i++) {
      await s.page.mouse.move(box.x + box.width * (0.3 + 0.4 * ((i * 7) % 40) / 40), box.y + box.height * (0.3 + 0.4 * ((i * 13) % 40) / 40));
      // Hover is picked in the next animation frame: let it run before looking.
      await nextFrames(s.page);
      shown = await s.page.locator('[data-testid="projection-tooltip"]').isVisible();
    }
    expect(shown).toBe(true);
    await screenshot(s.page, 'projection', { readme: true });
    // Orbit: a drag changes the picture.
    const before = await canvas.screenshot();
    await s.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await s.page.mouse.down();
    await s.page.mouse.move(box.x + box.width / 2 + 150, box.y + box.height / 2 + 40, { steps: 8 });
    await s.page.mouse.up();
    await expect.poll(async () => Buffer.compare(before, await canvas.screenshot()), { timeout: 10_000 }).not.toBe(0);
    // PNG export at twice the on-screen size.
    const png = await exportFrom(s, /.+/, 'PNG');
    const size = pngSize(png.file);
    const css = await canvas.evaluate((c: HTMLCanvasElement) => c.getBoundingClientRect().width);
    expect(size.width).toBeGreaterThanOrEqual(Math.floor(css * 2) - 2);
    const svg = await exportFrom(s, /.+/, 'SVG');
    expect((fs.readFileSync(svg.file, 'utf8').match(/<circle /g) ?? []).length).toBeGreaterThan(50);
    // A LoRA fine-tune is drawn with arrows from the base model's activations.
    await s.page.locator('[data-testid="projection-run"]').selectOption('lora-vs-steering/lora');
    await s.page.locator('[data-testid="projection-arrows"]').waitFor({ timeout: 60_000 });
    await expect.poll(() => projectionShown(), { timeout: 60_000 }).toMatch(/^3D projection: lora-vs-steering\/lora,/);
    // At the LoRA's own layer the shift is one shared direction: near-parallel arrows.
    await s.page.locator('[data-testid="projection-source"]').selectOption('blocks.0.hook_resid_post');
    await s.page.locator('[data-testid="projection-submit"]').click();
    await expect.poll(async () => (await s.page.locator('[data-testid="projection-panel"]').textContent()) ?? '', { timeout: 60_000 }).toContain('blocks.0.hook_resid_post');
    await expect.poll(() => projectionShown(), { timeout: 60_000 }).toContain('blocks.0.hook_resid_post');
    await s.page.locator('[data-testid="projection-reset"]').click();
    // The reset view is drawn in the next animation frame.
    await nextFrames(s.page);
    await screenshot(s.page, 'projection-lora-arrows', { readme: true });
    const csv = await exportFrom(s, /.+/, 'CSV');
    expect(fs.readFileSync(csv.file, 'utf8').split('\n')[0]).toContain('origin_x');
  });

  /** Number of points of the first line drawn in a chart (recharts writes one path command per point). */
  async function linePoints(testId: string): Promise<number> {
    const d = await s.page.locator(`[data-testid="${testId}"] .recharts-line path.recharts-curve`).first().getAttribute('d', { timeout: 1000 }).catch(() => null);
    return d ? (d.match(/[ML]/g) ?? []).length : 0;
  }

  it('Train: a short training shows progress with ETA and a growing loss curve, then lands in Runs', async () => {
    await openView('Train', 'train');
    await s.page.locator('[data-testid="train-preset"]').selectOption('ocr-factorized');
    await s.page.locator('[data-testid="train-name"]').fill('e2e-short');
    await s.page.locator('[data-testid="train-steps"]').fill('1500');
    // The factorization experiment's knob: the rank of W_O W_V (the preset's is 8).
    await expect.poll(() => s.page.locator('[data-testid="train-ov-rank"]').getAttribute('placeholder'), { timeout: 30_000 }).toBe('8');
    await s.page.locator('[data-testid="train-ov-rank"]').fill('4');
    await s.page.locator('[data-testid="train-start"]').click();
    const job = s.page.locator('[data-testid="train-job"]');
    await job.waitFor({ timeout: 30_000 });
    await expect.poll(() => linePoints('train-loss-chart'), { timeout: 60_000, interval: 100 }).toBeGreaterThan(1);
    const first = await linePoints('train-loss-chart');
    await expect.poll(() => text('[data-testid="train-eta"]'), { timeout: 30_000 }).toMatch(/step \d+ \/ 1500 .*ETA/);
    await expect.poll(() => linePoints('train-loss-chart'), { timeout: 60_000, interval: 100 }).toBeGreaterThan(first);
    // Mid-run, for the README: the curves have shape by ~40%.
    const progress = s.page.locator('[data-testid="train-progress"]');
    await expect.poll(async () => Number(await progress.getAttribute('value')), { timeout: 60_000, interval: 50 }).toBeGreaterThan(600);
    await screenshot(s.page, 'train', { readme: true });
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 120_000 }).toBe('completed');
    await expect.poll(async () => [await progress.getAttribute('value'), await progress.getAttribute('max')], { timeout: 30_000 }).toEqual(['1500', '1500']);
    expect(fs.existsSync(`${s.workspace}/e2e-short/checkpoints`)).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(`${s.workspace}/e2e-short/run.json`, 'utf8')) as { config: { steps: number; model: { ovRank: number } } };
    expect(manifest.config.steps).toBe(1500);
    expect(manifest.config.model.ovRank).toBe(4);
    await s.page.locator('[data-testid="train-open-run"]').click();
    await s.page.locator('[data-testid="run-row"][data-run-id="e2e-short"]').waitFor({ timeout: 30_000 });
  });

  it('Train: a long run can be cancelled from the UI and keeps its weights', async () => {
    await openView('Train', 'train');
    await s.page.locator('[data-testid="train-preset"]').selectOption('ocr-combined');
    await expect.poll(() => s.page.locator('[data-testid="train-ov-rank"]').isDisabled(), { timeout: 30_000 }).toBe(true);
    await s.page.locator('[data-testid="train-name"]').fill('e2e-cancel');
    await s.page.locator('[data-testid="train-steps"]').fill('100000');
    await s.page.locator('[data-testid="train-start"]').click();
    // Cancel only once training has visibly progressed: steps counted and loss points drawn.
    const progress = s.page.locator('[data-testid="train-progress"]');
    await expect.poll(async () => Number(await progress.getAttribute('value')), { timeout: 60_000, interval: 100 }).toBeGreaterThan(0);
    await expect.poll(() => linePoints('train-loss-chart'), { timeout: 60_000, interval: 100 }).toBeGreaterThan(1);
    await s.page.locator('[data-testid="train-cancel"]').click();
    await expect.poll(() => s.page.locator('[data-testid="train-job"]').getAttribute('data-status'), { timeout: 60_000 }).toBe('cancelled');
    await expect.poll(() => text('[data-testid="train-outcome"]'), { timeout: 30_000 }).toMatch(/Cancelled/);
  });

  it('reports API failures in the UI instead of failing silently', async () => {
    await openView('Train', 'train');
    await s.page.locator('[data-testid="train-name"]').fill('bad name!');
    await s.page.locator('[data-testid="train-name-error"]').waitFor();
    await expect.poll(() => s.page.locator('[data-testid="train-start"]').isDisabled()).toBe(true);
    // The server refuses a request without the token: the page shows why.
    const page = await s.context.newPage();
    await page.goto(s.url.replace(/token=[0-9a-f]+/, 'token=wrong'));
    await page.getByRole('alert').first().waitFor({ timeout: 30_000 });
    expect((await page.getByRole('alert').allTextContents()).join(' ')).toMatch(/token|401|unauthori/i);
    await page.close();
  });

  it('damaged runs stay listed with their error, and a truncated checkpoint is reported by name', async () => {
    // The list is loaded before the runs are damaged, so the refresh is what finds them.
    await s.page.locator('[data-testid="run-row"][data-run-id="ocr-factorized"]').waitFor({ timeout: 30_000 });
    // A run folder with a corrupt run.json, and a copy of a good run whose latest checkpoint is cut short.
    fs.mkdirSync(`${s.workspace}/broken`, { recursive: true });
    fs.writeFileSync(`${s.workspace}/broken/run.json`, '{"format": "oocr-run/1", "id": ');
    fs.cpSync(`${s.workspace}/ocr-factorized`, `${s.workspace}/truncated`, { recursive: true });
    const ck = `${s.workspace}/truncated/checkpoints/step-002000.safetensors`;
    fs.truncateSync(ck, Math.floor(fs.statSync(ck).size / 2));
    await openView('Runs', 'runs');
    await s.page.locator('[data-testid="runs-refresh"]').click();
    const broken = s.page.locator('[data-testid="run-row"][data-run-id="broken"]');
    await broken.waitFor({ timeout: 30_000 });
    await s.page.locator('[data-testid="run-error"]').first().waitFor();
    await expect.poll(() => text('[data-testid="run-error"]')).toMatch(/run\.json/);
    await openView('Weights', 'weights');
    await s.page.locator('[data-testid="weights-run-left"]').selectOption('truncated');
    const err = s.page.locator('[data-testid="weights-column"][data-side="left"] .view__error');
    await err.waitFor({ timeout: 30_000 });
    await expect.poll(async () => (await err.textContent()) ?? '').toMatch(/step-002000\.safetensors/);
    // The other column still works.
    await expect.poll(() => s.page.locator('[data-testid="weights-column"][data-side="right"] .recharts-line').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await screenshot(s.page, 'error-truncated-checkpoint');
  });

  it('the figure theme restyles the figures', async () => {
    await openView('Weights', 'weights');
    await s.page.locator('[data-testid="figure-theme"]').check();
    await s.page.locator('[data-testid="weights-sv-panel"] .recharts-line').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => s.page.locator('.app').getAttribute('class')).toContain('app--figure');
    await expect.poll(() => s.page.locator('[data-testid="weights-sv-panel"] .recharts-line').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await screenshot(s.page, 'weights-figure-theme');
    await s.page.locator('[data-testid="figure-theme"]').uncheck();
  });
});
