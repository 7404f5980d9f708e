/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import { textWidth } from '../../src/renderer/src/figure/text';
import { chromiumAvailable, FIGURES as OUT, GALLERY, nextFrames, pngSize, saveFigure, startSession, startSuite, type Session, type Suite } from './harness';

/**
 * Publication quality of the exports, in a real browser: every panel of every view exported at the
 * single-column preset (3.25 in, 300 dpi) in the figure theme, each file checked — PNG 975 px wide,
 * SVG 3.25 in wide with the font embedded, titles within the figure, no text outside it, no two
 * labels overlapping, masked attention cells drawn distinct from zero — with the text measured by the
 * browser in the embedded font. The PNGs are the gallery of docs/figures.md: every run writes them to
 * test-output/figures/, and `npm run screenshots` (or `npm run screenshots:figures`, this file alone)
 * copies them to docs/figures/.
 *
 * Figures drawn by the shared figure layer (attention, projection, step curves, and every title and
 * legend) must pass every check; the body of a figure another view draws itself is checked the same
 * way and what it fails is listed in test-output/figures/report.json.
 */
const skip = process.env.OOCR_SKIP_E2E === '1';
if (!skip && !chromiumAvailable()) throw new Error('chromium is missing (apt-get install chromium), or set OOCR_SKIP_E2E=1');

const SINGLE_COLUMN_PX = 975;

/** What the browser measured in one exported SVG (user units of its viewBox). */
interface SvgCheck {
  rootWidth: string;
  width: number;
  height: number;
  fontEmbedded: boolean;
  /** Title lines wider than the figure. */
  wideTitles: string[];
  /** Text reaching outside the figure. */
  outside: string[];
  /** Pairs of texts whose boxes overlap. */
  overlaps: [string, string][];
  /** Fill of the masked-cell shapes, and every cell fill of the colour scale. */
  maskedFills: string[];
  texts: number;
}

interface FigureRecord {
  view: string;
  panel: string;
  file: string;
  mine: boolean;
  check: SvgCheck;
}

describe.skipIf(skip)('figures exported for print (single column, figure theme)', () => {
  let suite: Suite;
  let s: Session;
  const records: FigureRecord[] = [];

  beforeAll(async () => {
    suite = await startSuite();
    s = await startSession(suite);
    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(OUT, { recursive: true });
    // Refreshing the gallery: it is exactly what this run exports.
    if (process.env.OOCR_UPDATE_SCREENSHOTS === '1' && fs.existsSync(GALLERY)) for (const f of fs.readdirSync(GALLERY)) if (f.endsWith('.png')) fs.rmSync(path.join(GALLERY, f));
    await s.page.goto(`${s.url}&theme=figure`);
    await s.page.locator('[data-testid="view-runs"]').waitFor({ timeout: 30_000 });
  }, 600_000);

  afterAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    fs.writeFileSync(path.join(OUT, 'report.json'), JSON.stringify(records.map((r) => ({ view: r.view, panel: r.panel, file: r.file, mine: r.mine, ...r.check, maskedFills: undefined })), null, 2));
    await s?.close();
    await suite?.close();
  }, 60_000);

  async function openView(name: string, id: string): Promise<void> {
    await s.page.getByRole('link', { name, exact: true }).click();
    await s.page.locator(`[data-testid="view-${id}"]`).waitFor({ timeout: 30_000 });
  }

  /** Waits until nothing in the view is loading and every panel has drawn its figure. */
  async function settled(id: string, minPanels: number): Promise<void> {
    const view = s.page.locator(`[data-testid="view-${id}"]`);
    await expect
      .poll(
        () =>
          view.evaluate((v) => {
            if (v.querySelector('.view__loading, .projection__busy') || /Updating \(/.test(v.textContent ?? '')) return -1;
            const panels = Array.from(v.querySelectorAll('section.panel'));
            return panels.every((p) => p.querySelector('.panel__body svg, .panel__body canvas, .panel__body .runs__card')) ? panels.length : -1;
          }),
        { timeout: 120_000, interval: 500 },
      )
      .toBeGreaterThanOrEqual(minPanels);
    await nextFrames(s.page);
  }

  async function download(panel: Locator, format: 'PNG' | 'SVG'): Promise<string> {
    const [dl] = await Promise.all([s.page.waitForEvent('download', { timeout: 60_000 }), panel.getByRole('group', { name: /^Export/ }).getByRole('button', { name: format, exact: true }).click()]);
    const file = path.join(s.downloads, `${Date.now()}-${dl.suggestedFilename()}`);
    await dl.saveAs(file);
    return file;
  }

  /** Measures an exported SVG in the page: the root's size, titles, text boxes (in the embedded font), masked cells. */
  async function checkSvg(svgText: string): Promise<SvgCheck> {
    return s.page.evaluate(async (text) => {
      const host = document.createElement('div');
      host.style.cssText = 'position:fixed;left:0;top:0;z-index:-1;';
      host.innerHTML = text.replace(/^<\?xml[^>]*>\s*/, '');
      document.body.appendChild(host);
      try {
        await document.fonts.ready;
        const svg = host.querySelector('svg') as SVGSVGElement;
        const vb = svg.viewBox.baseVal;
        const toRoot = (svg.getScreenCTM() as DOMMatrix).inverse();
        type P = { x: number; y: number };
        const quads: { text: string; q: P[]; title: boolean }[] = [];
        for (const t of Array.from(svg.querySelectorAll('text'))) {
          const content = (t.textContent ?? '').trim();
          if (!content) continue;
          const b = t.getBBox();
          if (b.width === 0) continue;
          const m = toRoot.multiply(t.getScreenCTM() as DOMMatrix);
          const q = [
            [b.x, b.y],
            [b.x + b.width, b.y],
            [b.x + b.width, b.y + b.height],
            [b.x, b.y + b.height],
          ].map(([x, y]) => new DOMPoint(x, y).matrixTransform(m));
          quads.push({ text: content, q: q.map((p) => ({ x: p.x, y: p.y })), title: !!t.closest('g.title') });
        }
        const tol = 0.75;
        const outside = quads.filter((it) => it.q.some((p) => p.x < -tol || p.y < -tol || p.x > vb.width + tol || p.y > vb.height + tol)).map((it) => it.text);
        const wideTitles = quads.filter((it) => it.title && Math.max(...it.q.map((p) => p.x)) - Math.min(...it.q.map((p) => p.x)) > vb.width).map((it) => it.text);
        // Separating axis test on the (possibly rotated) boxes, each shrunk a little so touching is not overlapping.
        const shrink = (q: P[]): P[] => {
          const cx = q.reduce((a, p) => a + p.x, 0) / 4;
          const cy = q.reduce((a, p) => a + p.y, 0) / 4;
          return q.map((p) => {
            const dx = p.x - cx;
            const dy = p.y - cy;
            const l = Math.hypot(dx, dy) || 1;
            return { x: p.x - (dx / l) * tol, y: p.y - (dy / l) * tol };
          });
        };
        const separated = (a: P[], b: P[]): boolean => {
          for (const poly of [a, b])
            for (let i = 0; i < 4; i++) {
              const p = poly[i];
              const r = poly[(i + 1) % 4];
              const nx = r.y - p.y;
              const ny = p.x - r.x;
              const pa = a.map((v) => v.x * nx + v.y * ny);
              const pb = b.map((v) => v.x * nx + v.y * ny);
              if (Math.max(...pa) <= Math.min(...pb) || Math.max(...pb) <= Math.min(...pa)) return true;
            }
          return false;
        };
        const overlaps: [string, string][] = [];
        const shrunk = quads.map((it) => shrink(it.q));
        for (let i = 0; i < quads.length; i++) for (let j = i + 1; j < quads.length; j++) if (!separated(shrunk[i], shrunk[j])) overlaps.push([quads[i].text, quads[j].text]);
        const maskedFills = Array.from(svg.querySelectorAll('.masked-cells')).map((el) => el.getAttribute('fill') ?? '');
        return {
          rootWidth: svg.getAttribute('width') ?? '',
          width: vb.width,
          height: vb.height,
          fontEmbedded: /@font-face\{font-family:Arimo;[^}]*src:url\(data:font\/woff2;base64,/.test(svg.querySelector('style')?.textContent ?? ''),
          wideTitles,
          outside,
          overlaps,
          maskedFills,
          texts: quads.length,
        };
      } finally {
        host.remove();
      }
    }, svgText);
  }

  /**
   * Exports every panel of the view at the single-column preset (PNG and SVG), checks the files and
   * keeps the PNGs for the gallery. `mine`: the figure is drawn by the shared figure layer, so its
   * body must pass too.
   */
  async function exportAll(view: string, mine: (title: string) => boolean, rename?: string): Promise<FigureRecord[]> {
    const panels = s.page.locator(`[data-testid="view-${view}"] section.panel`);
    const out: FigureRecord[] = [];
    for (let i = 0; i < (await panels.count()); i++) {
      const panel = panels.nth(i);
      const title = (await panel.getAttribute('aria-label')) ?? `panel ${i}`;
      const group = panel.getByRole('group', { name: /^Export/ });
      if (!(await group.getByRole('button', { name: 'PNG', exact: true }).count())) continue;
      await expect.poll(() => group.getByRole('combobox', { name: 'Export size' }).inputValue()).toBe('single');
      const png = await download(panel, 'PNG');
      expect(pngSize(png).width, `${view} / ${title}: PNG width`).toBe(SINGLE_COLUMN_PX);
      const name = rename ?? path.basename(png).replace(/^\d+-/, '').replace(/-single-column\.png$/, '');
      saveFigure(png, `${name}.png`);
      let check: SvgCheck | null = null;
      if (await group.getByRole('button', { name: 'SVG', exact: true }).count()) {
        const svgFile = await download(panel, 'SVG');
        const svgText = fs.readFileSync(svgFile, 'utf8');
        saveFigure(svgFile, `${name}.svg`);
        check = await checkSvg(svgText);
        expect(check.rootWidth, `${view} / ${title}: SVG width`).toBe('3.25in');
        expect(check.fontEmbedded, `${view} / ${title}: font embedded`).toBe(true);
        expect(check.wideTitles, `${view} / ${title}: titles wider than the figure`).toEqual([]);
        if (mine(title)) {
          expect(check.outside, `${view} / ${title}: text outside the figure`).toEqual([]);
          expect(check.overlaps, `${view} / ${title}: overlapping text`).toEqual([]);
        }
      }
      const rec: FigureRecord = { view, panel: title, file: `${name}.png`, mine: mine(title), check: check as SvgCheck };
      out.push(rec);
      records.push(rec);
    }
    return out;
  }

  it('sets the export size once for every panel, and remembers it', async () => {
    await s.page.locator('[data-testid="run-row"][data-run-id="ocr-factorized"]').click();
    await settled('runs', 3);
    const sizes = s.page.getByRole('combobox', { name: 'Export size' });
    expect(await sizes.first().locator('option').allTextContents()).toEqual(['screen', 'single column (3.25 in)', 'double column (6.75 in)']);
    await sizes.first().selectOption('single');
    for (const value of await sizes.evaluateAll((els) => els.map((e) => (e as HTMLSelectElement).value))) expect(value).toBe('single');
    expect(await s.page.evaluate(() => localStorage.getItem('oocr.figure.exportPreset'))).toBe('single');
  });

  it('Runs: step curves with human labels, x axis ending at the last step, and the run card', async () => {
    await settled('runs', 3);
    const recs = await exportAll('runs', (t) => /Loss over steps|Accuracy by split/.test(t));
    expect(recs.length).toBeGreaterThanOrEqual(3);
    const acc = fs.readFileSync(path.join(OUT, recs.find((r) => /Accuracy/.test(r.panel))!.file.replace(/\.png$/, '.svg')), 'utf8');
    // Human labels in the legend; the CSV keeps the internal names.
    expect(acc).toContain('held-out implications');
    expect(acc).toContain('training facts');
    expect(acc).not.toContain('test_impl_acc');
    // The step axis ends at the last logged step (2000): its last tick sits at the axis line's end.
    const bottom = [...acc.matchAll(/<text[^>]*orientation="bottom"[^>]*x="([\d.]+)"[^>]*class="[^"]*recharts-cartesian-axis-tick-value[^"]*"[^>]*><tspan[^>]*>([^<]+)<\/tspan>/g)].map((m) => ({ x: Number(m[1]), v: Number(m[2]) }));
    expect(bottom.length).toBeGreaterThan(2);
    expect(bottom[bottom.length - 1].v).toBe(2000);
    const axis = /<line[^>]*orientation="bottom"[^>]*class="recharts-cartesian-axis-line"[^>]*x1="([\d.]+)"[^>]*x2="([\d.]+)"/.exec(acc);
    expect(axis).not.toBeNull();
    expect(bottom[bottom.length - 1].x).toBeCloseTo(Number(axis![2]), 0);
  });

  it('Attention: small multiples with masked cells hatched, distinct from a weight of 0', async () => {
    await openView('Attention', 'attention');
    await s.page.locator('[data-testid="attention-run"]').selectOption('world-base');
    await expect.poll(() => s.page.locator('[data-testid="attention-head"]').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(8);
    await expect
      .poll(() => s.page.locator('[data-testid="attention-checkpoint"] .panel__caption').first().textContent(), { timeout: 60_000 })
      .toMatch(/^world-base · prompt/);
    await settled('attention', 1);
    // On screen too: the overlay hatches the masked cells, and the caption says so.
    expect(await s.page.locator('[data-testid="heatmap-masked-overlay"] path.masked-cells').count()).toBeGreaterThan(0);
    expect(await s.page.locator('[data-testid="attention-checkpoint"] .panel__caption').first().textContent()).toMatch(/Hatched grey: masked/);
    const recs = await exportAll('attention', () => true);
    expect(recs.length).toBeGreaterThanOrEqual(1);
    for (const r of recs) {
      // One hatched shape per head, filled with a pattern, never with a colour of the scale.
      expect(r.check.maskedFills.length).toBeGreaterThanOrEqual(8);
      for (const f of r.check.maskedFills) expect(f).toMatch(/^url\(#[\w-]+\)$/);
      const svg = fs.readFileSync(path.join(OUT, r.file.replace(/\.png$/, '.svg')), 'utf8');
      expect(svg).toContain('>masked (causal)</text>');
      const id = /^url\(#([\w-]+)\)$/.exec(r.check.maskedFills[0])![1];
      const pattern = new RegExp(`<pattern id="${id}"[^>]*><rect [^>]*fill="(#[0-9a-f]{6})"`).exec(svg);
      expect(pattern?.[1]).toBe('#d9d9d9');
      // A weight of 0 is viridis' darkest purple: not the masked grey.
      expect(svg).toContain('fill="#440154"');
    }
  });

  it('Projection: the whole scene framed, title and legend, PNG laid out like the SVG, arrows visible', async () => {
    await openView('Projection', 'projection');
    await s.page.locator('[data-testid="projection-run"]').selectOption('lora-vs-steering/lora');
    await s.page.locator('[data-testid="projection-arrows"]').waitFor({ timeout: 60_000 });
    await s.page.locator('[data-testid="projection-source"]').selectOption('blocks.0.hook_resid_post');
    await s.page.locator('[data-testid="projection-submit"]').click();
    await expect.poll(async () => (await s.page.locator('[data-testid="projection-panel"]').textContent()) ?? '', { timeout: 120_000 }).toContain('blocks.0.hook_resid_post');
    await settled('projection', 1);
    // Zoom far in and pan: the export frames the whole scene whatever the camera on screen.
    const canvas = s.page.locator('[data-testid="projection-canvas"] canvas');
    const box = (await canvas.boundingBox())!;
    await s.page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.3);
    for (let i = 0; i < 6; i++) await s.page.mouse.wheel(0, -400);
    await nextFrames(s.page);
    const [rec] = await exportAll('projection', () => true, 'projection-lora-arrows');
    const svg = fs.readFileSync(path.join(OUT, rec.file.replace(/\.png$/, '.svg')), 'utf8');
    // Title and legend (with the arrows' key) in both; every point inside the view.
    expect(svg).toContain('<g class="title">');
    expect(svg).toContain('arrows: from the base model to the fine-tune');
    const view = /<clipPath id="projection-clip"><rect width="([\d.]+)" height="([\d.]+)"/.exec(svg)!;
    const [w, h] = [Number(view[1]), Number(view[2])];
    expect(w).toBeCloseTo(312, 0);
    const circles = [...svg.matchAll(/<circle cx="([-\d.]+)" cy="([-\d.]+)" r="([\d.]+)"/g)];
    expect(circles.length).toBeGreaterThan(10);
    for (const [, cx, cy] of circles) {
      expect(Number(cx)).toBeGreaterThan(0);
      expect(Number(cx)).toBeLessThan(w);
      expect(Number(cy)).toBeGreaterThan(0);
      expect(Number(cy)).toBeLessThan(h);
    }
    // Arrow shafts at least 1.5 units (0.35 mm in print) wide.
    const shafts = [...svg.matchAll(/stroke-opacity="0.8" stroke-width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(shafts.length).toBeGreaterThan(10);
    for (const sw of shafts) expect(sw).toBeGreaterThanOrEqual(1.5);
    // The PNG has the SVG's proportions (the same layout), 975 px wide.
    const png = pngSize(path.join(OUT, rec.file));
    expect(png.width).toBe(SINGLE_COLUMN_PX);
    expect(png.height).toBe(Math.round((rec.check.height * SINGLE_COLUMN_PX) / rec.check.width));
    // Back to the world model's embedding for the gallery.
    await s.page.locator('[data-testid="projection-run"]').selectOption('world-base');
    await expect.poll(async () => (await s.page.locator('[data-testid="projection-panel"]').getAttribute('aria-label')) ?? '', { timeout: 120_000 }).toMatch(/world-base/);
    await settled('projection', 1);
    await exportAll('projection', () => true, 'projection-world-base');
  });

  it('PNGs are drawn in the embedded font, not whatever the machine has', async () => {
    // An export's @font-face under a family name no machine has (fontconfig maps "Arimo" to Liberation Sans).
    const exported = fs.readFileSync(path.join(OUT, 'loss-ocr-factorized.svg'), 'utf8');
    const faces = (/<defs><style>[^<]*<\/style><\/defs>/.exec(exported)?.[0] ?? '').replaceAll('font-family:Arimo;', 'font-family:OocrEmbeddedOnly;');
    expect(faces).toContain('@font-face{font-family:OocrEmbeddedOnly;');
    const line = 'held-out implications, training facts';
    const doc = (defs: string) =>
      `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="80" viewBox="0 0 1200 80" font-family="OocrEmbeddedOnly" font-size="40">${defs}<rect width="100%" height="100%" fill="#fff"/><text x="10" y="55">${line}</text></svg>`;
    /** Width of the ink of the SVG rasterised as the export does (an <img> drawn on a canvas). */
    const ink = (svg: string) =>
      s.page.evaluate(async (text) => {
        const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
        const img = new Image();
        await new Promise<void>((resolve, reject) => {
          img.onload = () => resolve();
          img.onerror = () => reject(new Error('svg did not load'));
          img.src = url;
        });
        const c = document.createElement('canvas');
        c.width = 1200;
        c.height = 80;
        const ctx = c.getContext('2d') as CanvasRenderingContext2D;
        ctx.drawImage(img, 0, 0);
        URL.revokeObjectURL(url);
        const d = ctx.getImageData(0, 0, 1200, 80).data;
        let lo = Infinity;
        let hi = -Infinity;
        for (let x = 0; x < 1200; x++)
          for (let y = 0; y < 80; y++)
            if (d[(y * 1200 + x) * 4] < 128) {
              lo = Math.min(lo, x);
              hi = Math.max(hi, x);
            }
        return hi - lo + 1;
      }, svg);
    const expected = textWidth(line, 40);
    const embedded = await ink(doc(faces));
    expect(Math.abs(embedded - expected) / expected).toBeLessThan(0.03);
    // Without it the same line falls back to the system's default font, at other widths: the width above is the embedded font's.
    const fallback = await ink(doc(''));
    expect(Math.abs(fallback - embedded)).toBeGreaterThan(5);
  });

  it('Weights, LoRA vs Steering, Lens & Patching: every panel within its column', async () => {
    for (const [name, id, min] of [
      ['Weights', 'weights', 2],
      ['LoRA vs Steering', 'lora-steering', 4],
      ['Lens & Patching', 'lens-patching', 3],
    ] as const) {
      await openView(name, id);
      if (id === 'lens-patching') await s.page.locator('[data-testid="lens-run"]').selectOption('world-base');
      await settled(id, min);
      const recs = await exportAll(id, () => false);
      expect(recs.length, name).toBeGreaterThanOrEqual(min);
    }
    // What the views' own figure bodies still do wrong, for the record (titles and legends are checked above).
    const flagged = records.filter((r) => !r.mine && r.check && (r.check.outside.length || r.check.overlaps.length));
    console.log(`figures with text outside or overlapping (drawn by their views): ${flagged.map((r) => `${r.file} (${r.check.outside.length} outside, ${r.check.overlaps.length} overlaps)`).join('; ') || 'none'}`);
  });

  it('the screen size still exports what is on screen: the 3D view at 2×, px sizes', async () => {
    await openView('Projection', 'projection');
    await settled('projection', 1);
    const panel = s.page.locator('[data-testid="projection-panel"]');
    await panel.getByRole('combobox', { name: 'Export size' }).selectOption('screen');
    const png = pngSize(await download(panel, 'PNG'));
    const css = await s.page.locator('[data-testid="projection-canvas"] canvas').evaluate((c) => c.getBoundingClientRect().width);
    expect(png.width).toBeGreaterThanOrEqual(Math.floor(css * 2) - 2);
    const svg = fs.readFileSync(await download(panel, 'SVG'), 'utf8');
    expect(svg).toMatch(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
    expect((svg.match(/<circle /g) ?? []).length).toBeGreaterThan(50);
  });
});
