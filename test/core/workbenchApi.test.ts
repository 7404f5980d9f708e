import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresetSummary, AttentionAnalysis, LensAnalysis, OvSpectrumAnalysis, PatchingAnalysis, ProjectionAnalysis, PromptSamples, RunDetails, RunSummary, StudySummary } from '../../src/shared/api';
import { initBackend } from '../../src/core/backend/initBackend';
import { seedWorkspace } from '../../src/core/io/seedWorkspace';
import { ApiArgumentError, createWorkbench, type Workbench } from '../../src/core/workbench';
import { measureFresh } from '../fixtures/exampleWorkspace';

/**
 * The workbench API over a copy of the shipped example workspace: every analysis method on real
 * checkpoints, the study records, and argument validation.
 */
const EXAMPLE = path.resolve(import.meta.dirname, '../../resources/workspace');
let dir: string;
let wb: Workbench;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-wbapi-'));
  expect(seedWorkspace(path.join(dir, 'ws'), EXAMPLE)).toBe(true);
  wb = createWorkbench({ workspaceDir: path.join(dir, 'ws') });
});

afterAll(() => {
  wb.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('example workspace', () => {
  it('holds trained runs of every kind the issue names, seeded as a copy', async () => {
    const runs = (await wb.call('listRuns', undefined)) as RunSummary[];
    const ids = runs.map((r) => r.id);
    for (const id of ['ocr-factorized', 'ocr-combined', 'two-hop', 'world-base', 'lora-vs-steering/lora', 'lora-vs-steering/steer']) expect(ids).toContain(id);
    expect(runs.every((r) => r.status === 'completed')).toBe(true);
    // The headline, measured here from the copied checkpoints with the eval code, not read from run.json.
    await initBackend();
    expect(measureFresh(path.join(dir, 'ws', 'ocr-factorized')).test_impl_acc).toBeGreaterThanOrEqual(0.95);
    expect(measureFresh(path.join(dir, 'ws', 'ocr-combined')).test_impl_acc).toBeLessThan(0.2);
    expect(runs.find((r) => r.id === 'lora-vs-steering/lora')?.finetune).toBe('lora');
    // A second seed does not copy again over existing runs.
    expect(seedWorkspace(path.join(dir, 'ws'), EXAMPLE)).toBe(false);
  });

  it('getRun lists checkpoint steps; fine-tune runs have none', async () => {
    const r = (await wb.call('getRun', { id: 'ocr-factorized' })) as RunDetails;
    expect(r.checkpoints).toEqual([250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
    expect(r.metrics.length).toBeGreaterThan(5);
    expect(((await wb.call('getRun', { id: 'lora-vs-steering/lora' })) as RunDetails).checkpoints).toEqual([]);
  });

  it('samplePrompts returns named prompts from the task', async () => {
    const s = (await wb.call('samplePrompts', { id: 'world-base', perSet: 2 })) as PromptSamples;
    expect(s.sets.length).toBeGreaterThan(0);
    for (const set of s.sets) for (const p of set.prompts) {
      expect(p.tokens).toHaveLength(s.seqLen);
      expect(p.tokens.every((t) => s.vocab.includes(t))).toBe(true);
      expect(s.vocab).toContain(p.answer);
    }
  });
});

describe('analyze', () => {
  it('attention: softmax rows sum to 1 for every head, at a chosen step', async () => {
    const a = (await wb.call('analyze', { kind: 'attention', id: 'world-base' })) as AttentionAnalysis;
    expect(a.layers).toHaveLength(2);
    for (const L of a.layers) for (const h of L.heads) for (const row of h[0]) expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    const early = (await wb.call('analyze', { kind: 'attention', id: 'ocr-factorized', step: 250 })) as AttentionAnalysis;
    expect(early.step).toBe(250);
    expect(early.tokens.length).toBe(early.layers[0].heads[0][0].length);
  });

  it('logit lens: the last hook predicts the model’s answer', async () => {
    const l = (await wb.call('analyze', { kind: 'logit-lens', id: 'world-base', prompt: 'noise_0 city_3 rel_country noise_1 noise_2 end' })) as LensAnalysis;
    const last = l.lens.hooks[l.lens.hooks.length - 1];
    expect(l.vocab[last.prompts[0].top[0].token]).toBe(l.answer);
    expect(last.prompts[0].target?.rank).toBe(0);
    expect(l.dla.components.length).toBeGreaterThan(4);
  });

  it('patching: the default corruption swaps one entity token and flips the prediction', async () => {
    const p = (await wb.call('analyze', { kind: 'patching', id: 'world-base' })) as PatchingAnalysis;
    const diff = p.tokens.filter((t, i) => t !== p.corrupted[i]);
    expect(diff).toHaveLength(1);
    expect(p.answer).not.toBe(p.wrong);
    // Patching the whole clean residual at layer 0 restores the clean answer exactly.
    expect(p.residual.metric[0].length).toBe(p.tokens.length);
    expect(p.heads.metric).toHaveLength(2);
  });

  it('ov-spectrum says which OV form the run has', async () => {
    const f = (await wb.call('analyze', { kind: 'ov-spectrum', id: 'ocr-factorized', top: 16 })) as OvSpectrumAnalysis;
    const c = (await wb.call('analyze', { kind: 'ov-spectrum', id: 'ocr-combined', top: 16 })) as OvSpectrumAnalysis;
    expect(f.ov).toBe('factorized');
    expect(f.ovRank).toBeGreaterThan(0);
    expect(c.ov).toBe('combined');
    expect(f.heads[0].singular_values[0]).toHaveLength(16);
    expect(f.steps).toEqual(c.steps);
  });

  it('projection of a fine-tuned run carries base-model origins for arrows', async () => {
    const p = (await wb.call('analyze', { kind: 'projection', id: 'lora-vs-steering/steer', source: 'blocks.0.hook_resid_post', method: 'pca', promptsPerSet: 10 })) as ProjectionAnalysis;
    expect(p.origins).toHaveLength(p.points.length);
    const moved = p.points.map((q, i) => Math.hypot(q[0] - p.origins![i][0], q[1] - p.origins![i][1], q[2] - p.origins![i][2]));
    expect(Math.min(...moved)).toBeGreaterThan(0);
    await expect(wb.call('analyze', { kind: 'projection', id: 'lora-vs-steering/steer', source: 'embed', method: 'pca' })).rejects.toThrow(/embeddings/);
    const e = (await wb.call('analyze', { kind: 'projection', id: 'ocr-factorized', source: 'embed', method: 'pca' })) as ProjectionAnalysis;
    expect(e.origins).toBeUndefined();
    expect(e.points.length).toBe(e.labels.length);
  });
});

describe('analysis worker', () => {
  it('runs analyses off the calling thread: timers keep firing during a long one', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = Date.now();
    const p = (await wb.call('analyze', { kind: 'projection', id: 'world-base', source: 'blocks.1.hook_resid_post', method: 'umap', promptsPerSet: 120 })) as ProjectionAnalysis;
    const elapsed = Date.now() - t0;
    clearInterval(timer);
    expect(p.points.length).toBe(p.labels.length);
    // Run on this thread, the synchronous UMAP would let no timer fire until it returned.
    expect(elapsed).toBeGreaterThan(50);
    expect(ticks).toBeGreaterThan(3);
  });

  it('keeps a plain Node process alive while an analysis is pending, and lets it exit after', () => {
    const script = path.join(dir, 'one-analysis.mts');
    const wbModule = path.resolve(import.meta.dirname, '../../src/core/workbench.ts');
    fs.writeFileSync(
      script,
      `import { createWorkbench } from ${JSON.stringify(wbModule)};\n` +
        `const wb = createWorkbench({ workspaceDir: ${JSON.stringify(path.join(dir, 'ws'))} });\n` +
        `wb.call('analyze', { kind: 'ov-spectrum', id: 'ocr-factorized', top: 2 }).then((r) => console.log('kind=' + (r as { kind: string }).kind));\n`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: path.resolve(import.meta.dirname, '../..'), encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('kind=ov-spectrum');
    expect(r.status).toBe(0);
  });

  it('answers concurrent requests each with its own result', async () => {
    const [a, b] = (await Promise.all([
      wb.call('analyze', { kind: 'ov-spectrum', id: 'ocr-factorized', top: 4 }),
      wb.call('analyze', { kind: 'ov-spectrum', id: 'ocr-combined', top: 4 }),
    ])) as OvSpectrumAnalysis[];
    expect([a.id, a.ov, b.id, b.ov]).toEqual(['ocr-factorized', 'factorized', 'ocr-combined', 'combined']);
  });
});

describe('studies', () => {
  it('lists and reads the shipped LoRA-vs-steering study', async () => {
    const s = (await wb.call('listStudies', undefined)) as StudySummary[];
    expect(s.map((x) => x.id)).toEqual(['lora-vs-steering', 'lora-vs-steering-backdoor']);
    expect(s.map((x) => x.kind)).toEqual(['locations', 'backdoor']);
    for (const x of s) expect(x.acc.trained_sv).toBeGreaterThan(0.9);
    const rec = (await wb.call('getStudy', { id: 'lora-vs-steering' })) as { cos_matrix: { values: number[][] } };
    expect(rec.cos_matrix.values.length).toBeGreaterThan(4);
    await expect(wb.call('getStudy', { id: 'ocr-factorized' })).rejects.toThrow(/not a LoRA-vs-steering study/);
  });

  it('a study runs as a cancellable job', async () => {
    const events: string[] = [];
    const off = wb.subscribe((e) => events.push(e.kind));
    const finished = new Promise<string>((resolve) => {
      const stop = wb.subscribe((e) => {
        if (e.kind === 'finished') resolve(e.status);
        else if (e.kind === 'failed') resolve(`failed: ${e.message}`);
        if (e.kind === 'finished' || e.kind === 'failed') stop();
      });
    });
    const { jobId } = (await wb.call('startStudy', { name: 'study-x', kind: 'locations', seed: 1, loraSteps: 2000 })) as { jobId: string };
    await new Promise((r) => setTimeout(r, 3000));
    expect(await wb.call('cancel', { jobId })).toEqual({ cancelled: true });
    expect(await finished).toBe('cancelled');
    off();
    expect(events).toContain('log');
  });
});

describe('argument validation', () => {
  it.each([
    ['analyze', { kind: 'attention', id: '../outside' }],
    ['analyze', { kind: 'nope', id: 'world-base' }],
    ['analyze', { kind: 'projection', id: 'world-base', source: 'rm -rf', method: 'pca' }],
    ['analyze', { kind: 'projection', id: 'world-base', source: 'embed', method: 'tsne' }],
    ['analyze', { kind: 'ov-spectrum', id: 'world-base', top: -1 }],
    ['startStudy', { name: 'x', kind: 'locations', seed: 1.5 }],
    ['samplePrompts', { id: 'world-base', perSet: 10_000 }],
  ])('%s rejects %j', async (method, args) => {
    await expect(wb.call(method, args)).rejects.toBeInstanceOf(ApiArgumentError);
  });

  it('checks training overrides against the preset', async () => {
    await expect(wb.call('startTraining', { preset: 'ocr-combined', name: 'r1', overrides: { ovRank: 4 } })).rejects.toThrow(/ovRank applies to factorized/);
    await expect(wb.call('startTraining', { preset: 'ocr-factorized', name: 'r2', overrides: { ovRank: 4000 } })).rejects.toBeInstanceOf(ApiArgumentError);
    const presets = (await wb.call('listPresets', undefined)) as PresetSummary[];
    const f = presets.find((p) => p.name === 'ocr-factorized');
    expect(f).toMatchObject({ ov: 'factorized', ovRank: 8, steps: 2000, task: 'ocr-recall' });
    expect(presets.find((p) => p.name === 'ocr-combined')?.ovRank).toBeUndefined();
  });

  it('names unknown prompt tokens', async () => {
    await expect(wb.call('analyze', { kind: 'attention', id: 'world-base', prompt: 'city_3 rel_nope end' })).rejects.toThrow(/unknown token 'rel_nope'/);
  });
});
