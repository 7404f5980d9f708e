import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttentionAnalysis, LensAnalysis, OvSpectrumAnalysis, PatchingAnalysis, ProjectionAnalysis } from '../../src/shared/analyses';
import { hookName } from '../../src/shared/hooks';
import { clearModelCache, openCachedModel } from '../../src/core/analyses/modelCache';
import { patchActivations } from '../../src/core/analysis/patching';
import { initBackend } from '../../src/core/backend/initBackend';
import { forward } from '../../src/core/model/forward';
import { analyzeRequest } from '../../src/core/runs/analyzeRequest';
import { HAVE_NUMPY, makeModels, readReference, type Reference } from './fixtures/pythonModels';

/**
 * Every analysis on real-architecture model folders (RMSNorm, rotary, grouped-query attention, gated
 * MLPs, parallel blocks, post norms, soft-capping), checked where an independent answer is cheap:
 * the float64 numpy reference of make_models.py (logits, attention patterns, OV spectra) or an
 * identity of the analysis itself (DLA sums to the logit; patching the only differing position of the
 * embedding restores the clean run exactly).
 */

interface FullReference extends Reference {
  /** [L][H][T][T] */
  patterns: number[][][][];
  /** [L][H][d_head] */
  ov: number[][][];
}

const CASES = ['gpt2', 'neox-bf16-sharded', 'neox-sequential', 'llama-sharded', 'llama-tied-bf16', 'qwen2-f16', 'gemma', 'gemma2', 'gemma3-text-bf16'];

let dir = '';
beforeAll(async () => {
  await initBackend();
  if (HAVE_NUMPY) dir = makeModels();
});
afterAll(() => {
  clearModelCache();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const ref = (name: string): FullReference => readReference(path.join(dir, name)) as FullReference;
/** The fixtures have no tokenizer.json: a prompt is its token ids. */
const idsText = (ids: readonly number[]): string => ids.map((t) => `#${t}`).join(' ');
const scaleOf = (row: readonly number[]): number => Math.max(...row.map(Math.abs));

/** Runs an analysis as the worker does, after a first call that loads (and caches) the model, and checks no tensor is left behind. */
function analyze<R>(name: string, req: Record<string, unknown>, adapter?: string): R {
  const folder = path.join(dir, name);
  const full = { id: name, ...(adapter ? { adapter } : {}), ...req } as Parameters<typeof analyzeRequest>[1];
  openCachedModel(folder, adapter ? path.join(dir, adapter) : undefined);
  const before = tf.memory().numTensors;
  const r = analyzeRequest(folder, full, adapter ? path.join(dir, adapter) : undefined) as R;
  expect(tf.memory().numTensors).toBe(before);
  return r;
}

describe.skipIf(!HAVE_NUMPY)('analyses on Hugging Face model folders', () => {
  it.each(CASES)('%s: logit lens at the last hook is the model’s logits; DLA adds up to the logit', (name) => {
    const r = ref(name);
    const T = r.tokens.length;
    const last = r.logits[T - 1];
    const scale = scaleOf(last);
    const a = analyze<LensAnalysis>(name, { kind: 'logit-lens', prompt: idsText(r.tokens), topK: 5, attribution: 'logit' });
    expect(a.step).toBe(0);
    expect(a.tokens).toEqual(r.tokens.map((t) => `#${t}`));
    const top = a.lens.hooks.find((h) => h.depth === a.lens.hooks.length - 1);
    expect(top).toBeDefined();
    for (const t of top?.prompts[0].top ?? []) expect(Math.abs(t.logit - last[t.token])).toBeLessThan(1e-3 * scale);
    expect(top?.prompts[0].top[0].token).toBe(last.indexOf(Math.max(...last)));
    // A model folder has no task: the answer defaults to the top prediction, labelled so.
    expect(a.answer).toBe(`#${last.indexOf(Math.max(...last))}`);
    expect(a.answerSource).toBe('predicted');
    expect(a.prediction.token).toBe(a.answer);

    const d = a.dla;
    expect(Math.abs(d.sum[0] - d.logit[0])).toBeLessThan(1e-3 * scale);
    const answer = d.answer[0];
    if (d.finalSoftcap) {
      // Gemma 2: the components add up to the raw logit; the model's is cap·tanh(raw / cap).
      expect(Math.abs(d.finalSoftcap * Math.tanh(d.logit[0] / d.finalSoftcap) - last[answer])).toBeLessThan(1e-3 * scale);
    } else {
      expect(Math.abs(d.logit[0] - last[answer])).toBeLessThan(1e-3 * scale);
    }
    expect(d.layerNorm).toBe('frozen-scale');

    // By default DLA decomposes the logit difference answer − the next most likely token.
    const diff = analyze<LensAnalysis>(name, { kind: 'logit-lens', prompt: idsText(r.tokens), topK: 5 });
    const second = last.map((v, i) => [v, i]).sort((x, y) => y[0] - x[0])[1][1];
    expect(diff.attribution).toEqual({ method: 'logit-diff', answer: a.answer, wrong: `#${second}`, wrongSource: 'predicted' });
    expect(diff.dla.baseline).toEqual([second]);
    expect(Math.abs(diff.dla.sum[0] - diff.dla.logit[0])).toBeLessThan(1e-3 * scale);
    // With soft-capping the components add up to the raw (uncapped) difference, which keeps its sign.
    if (diff.dla.finalSoftcap) expect(diff.dla.logit[0]).toBeGreaterThanOrEqual(0);
    else expect(Math.abs(diff.dla.logit[0] - (last[answer] - last[second]))).toBeLessThan(1e-3 * scale);
  });

  it.each(CASES)('%s: attention patterns (query heads, GQA included) match numpy and rows sum to 1', (name) => {
    const r = ref(name);
    const a = analyze<AttentionAnalysis>(name, { kind: 'attention', prompt: idsText(r.tokens) });
    expect(a.layers).toHaveLength(r.patterns.length);
    let worst = 0;
    a.layers.forEach((L, l) => {
      expect(L.heads).toHaveLength(r.patterns[l].length);
      L.heads.forEach((hd, h) =>
        hd[0].forEach((row, q) => {
          expect(Math.abs(row.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-5);
          row.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - r.patterns[l][h][q][k]))));
        }),
      );
    });
    expect(worst).toBeLessThan(1e-3);
  });

  it.each(CASES)('%s: OV spectra per query head match numpy’s SVD of W_V W_O', (name) => {
    const r = ref(name);
    const a = analyze<OvSpectrumAnalysis>(name, { kind: 'ov-spectrum' });
    expect(a.steps).toEqual([0]);
    expect(a.heads).toHaveLength(r.ov.length * r.ov[0].length);
    for (const h of a.heads) {
      const want = r.ov[h.layer][h.head];
      const got = h.singular_values[0];
      expect(got).toHaveLength(want.length);
      got.forEach((v, k) => expect(Math.abs(v - want[k])).toBeLessThan(1e-4 * want[0]));
      expect(h.nuclear_norm[0]).toBeCloseTo(want.reduce((s, v) => s + v, 0), 3);
    }
  });

  it.each(CASES)('%s: patching the one corrupted position restores the clean run (1), elsewhere nothing (0); head patching runs on query heads', (name) => {
    const r = ref(name);
    const clean = r.tokens;
    const V = r.logits[0].length;
    const j = 2;
    const corrupted = clean.map((t, i) => (i === j ? (t + 1) % V : t));
    const a = analyze<PatchingAnalysis>(name, { kind: 'patching', prompt: idsText(clean), corrupt: idsText(corrupted), answer: '#1', wrong: '#2' });
    const row0 = a.residual.metric[0];
    row0.forEach((v, t) => expect(Math.abs(v - (t === j ? 1 : 0))).toBeLessThan(1e-3));
    // Positions before j never see the difference, in any layer.
    for (const row of a.residual.metric) for (let t = 0; t < j; t++) expect(Math.abs(row[t])).toBeLessThan(1e-3);
    const H = r.patterns[0].length;
    expect(a.heads.metric.every((row) => row.length === H)).toBe(true);
    expect(a.heads.perPosition?.[0][0]).toHaveLength(clean.length);

    // The last query head of layer 0 patched by hand (clean z in that head, corrupted elsewhere)
    // gives the analysis's number.
    const folder = path.join(dir, name);
    const m = openCachedModel(folder);
    const before = tf.memory().numTensors;
    const z = hookName('attn.hook_z', 0);
    const h = H - 1;
    const byHand = tf.tidy(() => {
      const run = (ids: number[], o = {}) => forward(m.config, m.params, tf.tensor2d([ids], [1, ids.length], 'int32'), o);
      const ld = (logits: tf.Tensor3D): number => {
        const row = logits.slice([0, clean.length - 1, 0], [1, 1, V]).dataSync();
        return row[1] - row[2];
      };
      const c = run(clean, { cache: [z] });
      const x = run(corrupted, { cache: [z] });
      expect(c.cache[z].shape).toEqual([1, clean.length, H, m.config.dHead]);
      const mask = tf.oneHot([h], H).reshape([1, 1, H, 1]);
      const value = x.cache[z].mul(tf.scalar(1).sub(mask)).add(c.cache[z].mul(mask));
      const patched = run(corrupted, { interventions: [{ hook: z, kind: 'replace', value }] });
      return (ld(patched.logits) - ld(x.logits)) / (ld(c.logits) - ld(x.logits));
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(byHand - a.heads.metric[0][h])).toBeLessThan(1e-4);
    expect(patchActivations(m.config, m.params, clean, corrupted, 1, 2, []).metric).toBeCloseTo(0, 9);
    expect(patchActivations(m.config, m.params, clean, corrupted, 1, 2, [{ hook: hookName('hook_resid_pre', 0) }]).metric).toBeCloseTo(1, 5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('projection of texts: one point per text at the last position, grouped by the labels given', () => {
    const r = ref('llama-sharded');
    const texts = [r.tokens, r.tokens.slice(0, 5), r.tokens.slice(1), r.tokens.slice(0, 4).reverse(), r.tokens.slice(2, 6)].map(idsText);
    const labels = ['a', 'b', 'a', 'b', 'c'];
    const a = analyze<ProjectionAnalysis>('llama-sharded', { kind: 'projection', source: 'blocks.1.hook_resid_post', texts, labels });
    expect(a.points).toHaveLength(5);
    expect(a.labels.map((l) => l.group)).toEqual(labels);
    expect(a.labels.map((l) => l.text)).toEqual(texts);
    expect(a.labels[1].position).toBe(4);
    expect(a.varianceRatio?.length).toBe(3);
    // The embedding matrix of a model folder, without texts.
    const e = analyze<ProjectionAnalysis>('llama-sharded', { kind: 'projection' });
    expect(e.points).toHaveLength(r.logits[0].length);
  });

  it('an adapter changes the analysed model (merged into a cached view), and is echoed in the result', () => {
    const r = ref('gpt2-lora');
    const base = analyze<LensAnalysis>('gpt2', { kind: 'logit-lens', prompt: idsText(r.tokens) });
    const adapted = analyze<LensAnalysis>('gpt2', { kind: 'logit-lens', prompt: idsText(r.tokens) }, 'gpt2-lora');
    expect(adapted.adapter).toBe('gpt2-lora');
    const last = r.logits[r.tokens.length - 1];
    const top = adapted.lens.hooks[adapted.lens.hooks.length - 1].prompts[0].top;
    for (const t of top) expect(Math.abs(t.logit - last[t.token])).toBeLessThan(1e-3 * scaleOf(last));
    expect(top.map((t) => t.logit)).not.toEqual(base.lens.hooks[base.lens.hooks.length - 1].prompts[0].top.map((t) => t.logit));
  });

  it('caller mistakes are argument errors: a step, a corruption of another length, unknown tokens', () => {
    const r = ref('gpt2');
    const call = (req: Record<string, unknown>): unknown => analyzeRequest(path.join(dir, 'gpt2'), { id: 'gpt2', ...req } as Parameters<typeof analyzeRequest>[1]);
    expect(() => call({ kind: 'attention', step: 100 })).toThrow(/no checkpoints/);
    expect(() => call({ kind: 'patching', prompt: idsText(r.tokens), corrupt: idsText(r.tokens.slice(1)) })).toThrow(/same length/);
    expect(() => call({ kind: 'patching', prompt: idsText(r.tokens) })).toThrow(/corrupted text/);
    expect(() => call({ kind: 'logit-lens', prompt: idsText(r.tokens), answer: 'Paris' })).toThrow(/not one token/);
    expect(() => call({ kind: 'attention', prompt: 'hello world' })).toThrow(/tokenizer\.json/);
    expect(() => call({ kind: 'projection', source: 'blocks.0.hook_resid_post' })).toThrow(/give texts/);
  });
});
