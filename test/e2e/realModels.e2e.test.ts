/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { writeByteBpeTokenizer } from '../hf/fixtures/byteBpe';
import { HAVE_NUMPY, makeModels } from '../hf/fixtures/pythonModels';
import { chromiumAvailable, exportFrom, screenshot, startSession, startSuite, type Session, type Suite } from './harness';
import { initBackend } from '../../src/core/backend/initBackend';
import { writeDatasetFolder } from '../../src/core/data/datasetFolder';
import { worldTextDataset } from '../../src/core/data/generators/worldText';
import { latentCityForSeed } from '../../src/core/finetune/loraVsSteering';
import { finetuneTaskFor, loadBase } from '../../src/core/finetune/runFinetune';
import { runTextStudy } from '../../src/core/finetune/textStudy';
import { exportToyAsGpt2 } from '../../src/core/hf/export/toyToGpt2';
import { World } from '../../src/core/tasks/world';

/**
 * Hugging Face model folders in the workbench, in a real browser (web mode, Debian chromium): tiny
 * random GPT-2 and Llama folders written by test/hf/fixtures/make_models.py into each test's
 * workspace (with a byte-level BPE tokenizer, and a PEFT adapter beside the GPT-2), listed in Runs,
 * opened in Attention and Lens & Patching on typed text, projected over labelled texts, and compared
 * with their adapter in LoRA vs Steering. Every wait is on what the page shows.
 */
const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const skip = process.env.OOCR_SKIP_E2E === '1';
if (!skip && !chromiumAvailable()) throw new Error('chromium is missing (apt-get install chromium), or set OOCR_SKIP_E2E=1');
if (!HAVE_NUMPY) console.warn('real model e2e skipped: python3 with numpy is needed to write the tiny models (test/hf/fixtures/make_models.py)');

/**
 * A byte-level BPE tokenizer.json whose ids fit a 64-token vocabulary: the letters, 'Ġ' (a space), '.'
 * and six merges (ids 0..59). Characters outside it are dropped by the tokenizer.
 */
function writeSmallTokenizer(dir: string): void {
  const chars = [...'abcdefghijklmnopqrstuvwxyz', 'Ġ', '.', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
  const vocab: Record<string, number> = Object.fromEntries(chars.map((c, i) => [c, i]));
  const merges = [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['c', 'a'], ['ca', 't'], ['Ġ', 'cat']];
  merges.forEach(([a, b], i) => (vocab[a + b] = chars.length + i));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: merges.map((m) => m.join(' ')) },
  };
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
}

/**
 * A real-model study, as `oocr reproduce lora-vs-steering --model … --data …` writes it: the world model
 * exported as a GPT-2 folder, its locations task as JSONL, a short PEFT LoRA and two vectors.
 */
async function makeWorldGpt2Study(dir: string): Promise<string> {
  const backend = await initBackend();
  const base = loadBase(path.join(ROOT_DIR, 'resources', 'workspace', 'world-base'));
  const task = finetuneTaskFor(base, { kind: 'locations' });
  const model = path.join(dir, 'world-gpt2');
  exportToyAsGpt2({ config: base.checkpoint.config, params: base.checkpoint.params, vocab: task.vocab, outDir: model });
  const world = new World(task.world.options);
  const data = path.join(dir, 'world-locations');
  writeDatasetFolder(data, worldTextDataset(world, { kind: 'locations', codename: 0, latentCity: latentCityForSeed(world, 0) }, { seed: 0, nTrain: 256, evalSamples: 40 }));
  const out = path.join(dir, 'gpt2-study');
  const r = await runTextStudy({ model, data, seed: 0, outDir: out, peft: { r: 4, alpha: 8, targetModules: ['mlp.c_proj'], layers: [0] }, loraSteps: 40, steerSteps: 60, batchSize: 32, evalSamples: 10, deltaPrompts: 12, backend });
  if (r.status !== 'completed') throw new Error('study did not complete');
  return out;
}

describe.skipIf(skip || !HAVE_NUMPY)('real model folders in chromium (web mode)', () => {
  let suite: Suite;
  let s: Session;
  let fixtures = '';

  let study = '';

  beforeAll(async () => {
    fixtures = makeModels();
    study = await makeWorldGpt2Study(fixtures);
    suite = await startSuite();
  }, 300_000);

  afterAll(async () => {
    await suite?.close();
    if (fixtures) fs.rmSync(fixtures, { recursive: true, force: true });
  });

  beforeEach(async () => {
    s = await startSession(suite);
    // The models are folders of this test's workspace: gpt2 (+ its adapter beside it) and llama.
    for (const [from, to] of [
      ['gpt2', 'gpt2'],
      ['gpt2-lora', 'gpt2-lora'],
      ['llama-sharded', 'llama'],
    ]) {
      fs.cpSync(path.join(fixtures, from), path.join(s.workspace, to), { recursive: true });
      fs.rmSync(path.join(s.workspace, to, 'reference.json'), { force: true });
    }
    writeByteBpeTokenizer(path.join(s.workspace, 'gpt2'));
    writeSmallTokenizer(path.join(s.workspace, 'llama'));
    await s.page.goto(s.url);
    await s.page.locator('[data-testid="view-runs"]').waitFor({ timeout: 30_000 });
  }, 120_000);

  afterEach(async () => {
    const errors = s?.pageErrors.filter((e) => !/Failed to load resource/.test(e)) ?? [];
    await s?.close();
    expect(errors).toEqual([]);
  }, 60_000);

  const row = (id: string) => s.page.locator(`[data-testid="model-row"][data-model-id="${id}"]`);

  /** The heatmap canvases inside `selector` once at least `n` have drawn non-blank pixels. */
  async function drawnCanvases(selector: string, n: number): Promise<number> {
    let drawn = 0;
    await expect
      .poll(
        async () => {
          drawn = await s.page.locator(selector).evaluateAll((els) =>
            els.filter((el) => {
              const c = el as HTMLCanvasElement;
              const ctx = c.getContext('2d');
              if (!ctx || !c.width || !c.height) return false;
              const px = ctx.getImageData(0, 0, c.width, c.height).data;
              for (let i = 3; i < px.length; i += 4) if (px[i] > 0) return true;
              return false;
            }).length,
          );
          return drawn;
        },
        { timeout: 60_000 },
      )
      .toBeGreaterThanOrEqual(n);
    return drawn;
  }

  it('real model: Runs lists the models, Attention and Lens & Patching run on typed text with visible-space token labels', async () => {
    // Runs: the models apart from the runs, with architecture, shape and the adapter beside GPT-2.
    await row('gpt2').waitFor({ timeout: 30_000 });
    await row('llama').waitFor({ timeout: 30_000 });
    expect(await row('gpt2').locator('[data-testid="model-architecture"]').textContent()).toBe('gpt2');
    expect(await row('llama').locator('[data-testid="model-architecture"]').textContent()).toBe('llama');
    expect(await row('gpt2').textContent()).toMatch(/gpt2\s*2\s*32/);
    expect(await row('gpt2').locator('[data-testid="model-adapters"]').textContent()).toMatch(/gpt2-lora \(r 4, α 8, layers 0, 1\)/);
    expect(await s.page.locator('[data-testid="run-row"][data-run-id="gpt2"]').count()).toBe(0);

    // Attention on a typed text: one grid, axes labelled with the decoded tokens (·the = " the").
    await row('gpt2').locator('[data-testid="model-open-attention"]').click();
    await s.page.locator('[data-testid="view-attention"]').waitFor();
    await expect.poll(() => s.page.locator('[data-testid="attention-run"]').inputValue()).toBe('gpt2');
    await s.page.locator('[data-testid="attention-prompt-input"]').fill(' the cat the cat');
    await s.page.locator('[data-testid="attention-prompt-input"]').press('Enter');
    await expect.poll(() => s.page.locator('[data-testid="attention-tokens"]').textContent(), { timeout: 60_000 }).toBe('·the ·cat ·the ·cat');
    expect(await s.page.locator('[data-testid="attention-checkpoint"]').count()).toBe(1);
    expect(await drawnCanvases('[data-testid="attention-head"] canvas', 8)).toBe(8); // 2 layers × 4 heads
    const labels = await s.page.locator('[data-testid="attention-head"]').first().locator('svg text').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['·the', '·cat']));
    await screenshot(s.page, 'attention-real-model', { readme: true });

    // Lens & Patching: the lens on the text, then patching from a typed corrupted text.
    await s.page.getByRole('link', { name: 'Lens & Patching', exact: true }).click();
    await s.page.locator('[data-testid="view-lens-patching"]').waitFor();
    await expect.poll(() => s.page.locator('[data-testid="lens-run"]').inputValue()).toBe('gpt2');
    await s.page.locator('[data-testid="lens-prompt-input"]').fill(' the cat');
    await s.page.locator('[data-testid="lens-prompt-input"]').press('Enter');
    await expect.poll(() => s.page.locator('[data-testid="lens-tokens"]').textContent(), { timeout: 60_000 }).toBe('·the ·cat');
    await s.page.locator('[data-testid="patching-needs-corrupt"]').waitFor();
    await s.page.locator('[data-testid="patching-corrupt-input"]').fill(' cat the');
    await s.page.locator('[data-testid="patching-corrupt-input"]').press('Enter');
    await drawnCanvases('[data-testid="lens-heatmap"] canvas, [data-testid="patching-resid"] canvas, [data-testid="patching-heads"] canvas', 3);
    await s.page.locator('[data-testid="lens-dla"] .recharts-surface').waitFor({ timeout: 30_000 });
    // The lens lists decoded top tokens; the patching maps' positions are the prompt's tokens.
    expect(await s.page.locator('[data-testid="lens-heatmap"] svg text').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/\(answer\)$/)]));
    const positions = await s.page.locator('[data-testid="patching-resid"] svg text').allTextContents();
    expect(positions.join(' ')).toMatch(/·the.*·cat/);
    await screenshot(s.page, 'lens-real-model', { readme: true, height: 1500 });
  }, 240_000);

  it('real model: a Llama on its tokenizer, a model opened by path in Runs, and a refusal shown inline', async () => {
    await row('llama').waitFor({ timeout: 30_000 });
    // The web-mode path field: a folder outside the workspace is registered under models/<name>.
    await s.page.locator('[data-testid="open-model-path"]').fill('relative/qwen');
    await s.page.locator('[data-testid="open-model-submit"]').click();
    await expect.poll(() => s.page.locator('[data-testid="open-model-error"]').textContent(), { timeout: 30_000 }).toMatch(/absolute folder path/);
    await s.page.locator('[data-testid="open-model-path"]').fill(path.join(fixtures, 'qwen2-f16'));
    await s.page.locator('[data-testid="open-model-submit"]').click();
    await expect.poll(() => s.page.locator('[data-testid="open-model-done"]').textContent(), { timeout: 30_000 }).toMatch(/models\/qwen2-f16/);
    await row('models/qwen2-f16').waitFor({ timeout: 30_000 });
    expect(await row('models/qwen2-f16').locator('[data-testid="model-architecture"]').textContent()).toBe('qwen2');
    await s.page.locator('[data-testid="runs-models"]').scrollIntoViewIfNeeded();
    await screenshot(s.page, 'runs-models');

    await row('llama').locator('[data-testid="model-open-attention"]').click();
    await s.page.locator('[data-testid="view-attention"]').waitFor();
    await s.page.locator('[data-testid="attention-prompt-input"]').fill('the cat sat');
    await s.page.locator('[data-testid="attention-prompt-input"]').press('Enter');
    await expect.poll(() => s.page.locator('[data-testid="attention-tokens"]').textContent(), { timeout: 60_000 }).toBe('t he ·cat · s a t');
    expect(await drawnCanvases('[data-testid="attention-head"] canvas', 8)).toBe(8); // 2 layers × 4 query heads
  }, 240_000);

  it('real model: a LoRA-vs-steering study of a GPT-2 folder shows like a toy one, with its layer sweep, per-token cosines and seeds', async () => {
    fs.cpSync(study, path.join(s.workspace, 'gpt2-study'), { recursive: true });
    await s.page.getByRole('link', { name: 'LoRA vs Steering', exact: true }).click();
    await s.page.locator('[data-testid="view-lora-steering"]').waitFor();
    await expect.poll(async () => s.page.locator('[data-testid="lora-study-picker"] option').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/^gpt2-study/));
    await s.page.locator('[data-testid="lora-study-picker"]').selectOption('gpt2-study');
    await expect.poll(() => s.page.locator('[data-testid="lora-study-summary"]').textContent(), { timeout: 30_000 }).toMatch(/gpt2 model .*PEFT LoRA r 4, α 8 on mlp\.c_proj of layers? 0.*trained here/s);
    await drawnCanvases('[data-testid="lora-cos-heatmap"] canvas', 1);
    for (const id of ['lora-accuracy-panel', 'lora-layer-sweep-panel', 'lora-token-cos-panel', 'lora-seeds-panel']) {
      await s.page.locator(`[data-testid="${id}"] .recharts-surface`).first().waitFor({ timeout: 30_000 });
    }
    // Token strings of the model's own tokenizer label the per-token bars.
    expect(await s.page.locator('[data-testid="lora-token-cos-panel"]').textContent()).toMatch(/codename_0/);
    const csv = await exportFrom(s, /Layer sweep/i, 'CSV');
    expect(fs.readFileSync(csv.file, 'utf8').trim().split('\n')).toHaveLength(1 + 2); // header + two layers
    await screenshot(s.page, 'lora-vs-steering-real-model', { readme: true, height: 1800 });
  });

  it('real model: Projection over labelled texts, and the adapter’s per-token deltas in LoRA vs Steering', async () => {
    await row('gpt2').waitFor({ timeout: 30_000 });
    await row('gpt2').locator('[data-testid="model-open-projection"]').click();
    await s.page.locator('[data-testid="view-projection"]').waitFor();
    await expect.poll(() => s.page.locator('[data-testid="projection-run"]').inputValue()).toBe('gpt2');
    const texts = ['a\t the cat', 'a\t the the cat', 'a\t cat the', 'b\tthe cat', 'b\tthe the', 'b\tcat cat'].join('\n');
    await s.page.locator('[data-testid="projection-texts"]').fill(texts);
    await s.page.locator('[data-testid="projection-submit"]').click();
    await s.page.locator('[data-testid="projection-canvas"] canvas').waitFor({ timeout: 60_000 });
    await expect.poll(async () => (await s.page.locator('[data-testid="projection-legend"]').textContent()) ?? '', { timeout: 60_000 }).toMatch(/a.*b/s);
    expect(await s.page.locator('[data-testid="projection-panel"]').textContent()).toMatch(/6 texts' residual stream at blocks\.1\.hook_resid_post/);

    await s.page.getByRole('link', { name: 'LoRA vs Steering', exact: true }).click();
    await s.page.locator('[data-testid="view-lora-steering"]').waitFor();
    await s.page.locator('[data-testid="lora-mode-model"]').check();
    await expect.poll(() => s.page.locator('[data-testid="lora-model"]').inputValue(), { timeout: 30_000 }).toBe('gpt2');
    await s.page.locator('[data-testid="lora-model-texts"]').fill(' the cat\nthe cat the cat\ncat');
    await s.page.locator('[data-testid="lora-model-run"]').click();
    await expect.poll(() => s.page.locator('[data-testid="lora-model-summary"]').textContent(), { timeout: 60_000 }).toMatch(/gpt2 \+ gpt2-lora: 8 tokens of 3 texts/);
    await drawnCanvases('[data-testid="lora-model-cos"] canvas', 1);
    expect(await s.page.locator('[data-testid="lora-natural-norm"]').textContent()).toMatch(/‖v‖ = \d/);
    await s.page.locator('[data-testid="lora-model-stats"] .recharts-surface').waitFor({ timeout: 30_000 });
    const svg = await exportFrom(s, /\|cos\| between per-token LoRA deltas/, 'SVG');
    expect((fs.readFileSync(svg.file, 'utf8').match(/<rect /g) ?? []).length).toBeGreaterThanOrEqual(64); // 8 × 8 cells
    const csv = await exportFrom(s, /\|cos\| between per-token LoRA deltas/, 'CSV');
    expect(fs.readFileSync(csv.file, 'utf8').trim().split('\n')).toHaveLength(1 + 64);
    await exportFrom(s, /\|cos\| between per-token LoRA deltas/, 'PNG');
    await screenshot(s.page, 'lora-deltas-real-model', { height: 1200 });
  }, 240_000);
});
