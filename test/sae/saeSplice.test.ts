import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src/core/backend/initBackend';
import { binaryLabelMi, promptLabels } from '../../src/core/sae/featureLabels';
import { hookRows, hookStream } from '../../src/core/sae/hookActivations';
import { readTextPrompts, taskEvalBatches, taskPromptSource, textEvalBatches } from '../../src/core/sae/promptSource';
import { SAE_SUMMARY_FILE, type Sae, type SaeArchitecture } from '../../src/core/sae/saeConfig';
import { readSae } from '../../src/core/sae/saeFormat';
import { DEFAULT_SAE_JOB, runSaeJob } from '../../src/core/sae/runSae';
import { evaluateSae } from '../../src/core/sae/saeEval';
import { featureReport } from '../../src/core/sae/saeFeatures';
import { disposeSae, liveSae } from '../../src/core/sae/saeModel';
import { editedLoss } from '../../src/core/sae/saeSplice';
import { checkSaeHook, openSubject, type SaeSubject } from '../../src/core/sae/saeSubject';
import { ROOT } from '../cli/runCli';
import { writeTinyGpt2 } from '../hf/fixtures/tinyGpt2';

/**
 * The SAE in the forward pass, on the shipped world model and a tiny GPT-2 folder: an identity-like
 * SAE (d_sae = 2·d_in, W_enc = [I, −I], W_dec = [I; −I], so ReLU(x) − ReLU(−x) = x exactly) spliced in
 * leaves the loss unchanged; zero ablation and ablating all its features both remove the activation;
 * activations stream in batches; feature reports and label MI are plain data; no tensors leak.
 */

const WORLD_BASE = path.join(ROOT, 'resources/workspace/world-base');
let world: SaeSubject;
let tmp: string;

beforeAll(async () => {
  await initBackend();
  world = openSubject(WORLD_BASE);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-sae-splice-'));
});
afterAll(() => {
  world?.release();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function identitySae(d: number, hook: string, architecture: SaeArchitecture = 'standard'): Sae {
  const W_enc = new Float32Array(d * 2 * d);
  const W_dec = new Float32Array(2 * d * d);
  for (let i = 0; i < d; i++) {
    W_enc[i * 2 * d + i] = 1;
    W_enc[i * 2 * d + d + i] = -1;
    W_dec[i * d + i] = 1;
    W_dec[(d + i) * d + i] = -1;
  }
  return {
    cfg: { architecture, d_in: d, d_sae: 2 * d, ...(architecture === 'topk' ? { k: d } : {}), hook_name: hook, hook_layer: 0, model_name: 'test', dtype: 'float32', device: 'cpu', apply_b_dec_to_input: true, normalize_activations: 'none', context_size: 0, prepend_bos: false, dataset_path: '' },
    weights: { W_enc: { shape: [d, 2 * d], data: W_enc }, b_enc: { shape: [2 * d], data: new Float32Array(2 * d) }, W_dec: { shape: [2 * d, d], data: W_dec }, b_dec: { shape: [d], data: new Float32Array(d) } },
  };
}

describe('splicing an identity-like SAE leaves the model unchanged', () => {
  it('world-base, blocks.0.hook_resid_post and blocks.1.attn.hook_z (per-head dims flattened): spliced loss = clean to 1e-5', () => {
    const batches = taskEvalBatches(world.task!, 0, 40);
    for (const [hook, d] of [
      ['blocks.0.hook_resid_post', 64],
      ['blocks.1.attn.hook_z', 4 * 16],
    ] as const) {
      const before = tf.memory().numTensors;
      const m = evaluateSae(world, identitySae(d, hook), batches);
      expect(tf.memory().numTensors).toBe(before);
      expect(Math.abs(m.splicedLoss - m.cleanLoss)).toBeLessThan(1e-5);
      expect(m.splicedAcc).toBe(m.cleanAcc);
      expect(m.fve).toBeGreaterThan(1 - 1e-6);
      expect(m.lossRecovered).toBeCloseTo(1, 5);
      expect(m.zeroAblationLoss).toBeGreaterThan(m.cleanLoss + 0.1);
      expect(m.nTokens).toBe(4 * 40 * 6);
      expect(m.density.length).toBe(2 * d);
      expect(m.densityHistogram.reduce((a, b) => a + b.count, 0)).toBe(2 * d - m.dead);
    }
  });

  it('ablating every feature of it is zero ablation; ablating none is the clean model', () => {
    const sae = identitySae(64, 'blocks.0.hook_resid_post');
    const batches = taskEvalBatches(world.task!, 1, 20);
    const live = liveSae(sae.weights);
    const before = tf.memory().numTensors;
    const clean = editedLoss(world, live, sae, batches, null);
    const none = editedLoss(world, live, sae, batches, { kind: 'ablate', features: [] });
    const all = editedLoss(world, live, sae, batches, { kind: 'ablate', features: Array.from({ length: 128 }, (_, i) => i) });
    const zero = editedLoss(world, live, sae, batches, { kind: 'zero' });
    expect(tf.memory().numTensors).toBe(before);
    disposeSae(live);
    expect(none.loss).toBeCloseTo(clean.loss, 6);
    expect(all.loss).toBeCloseTo(zero.loss, 4);
  });

  it('a Hugging Face model folder over a text dataset (next-token loss, padded batches)', () => {
    const dir = path.join(tmp, 'gpt2');
    writeTinyGpt2(dir);
    const data = path.join(tmp, 'texts.jsonl');
    fs.writeFileSync(data, ['{"text": "the cat sat on the mat"}', '{"prompt": "a b", "completion": " c d e f", "label": "x"}', 'plain line of text here', ''].join('\n'));
    const gpt2 = openSubject(dir);
    try {
      const rows = readTextPrompts(data, gpt2);
      expect(rows.length).toBe(3);
      expect(rows[1].label).toBe('x');
      const batches = textEvalBatches(rows, 10, 2);
      const m = evaluateSae(gpt2, identitySae(32, 'blocks.1.hook_resid_pre'), batches);
      expect(Math.abs(m.splicedLoss - m.cleanLoss)).toBeLessThan(1e-5);
      expect(m.nTokens).toBe(rows.reduce((a, r) => a + r.ids.length, 0));
    } finally {
      gpt2.release();
    }
  });
});

describe('activations, features and labels', () => {
  it('streams a hook’s activations in batches over the task prompts (every position of each prompt)', () => {
    const before = tf.memory().numTensors;
    const stream = hookStream(world, taskPromptSource(world.task!, 0, 16), checkSaeHook(world.config, 'blocks.1.hook_mlp_out'), 0, 256);
    expect(stream.dIn).toBe(64);
    const a = stream.next(100);
    const b = stream.next(100);
    expect(a.length).toBe(6400);
    expect(a.every(Number.isFinite)).toBe(true);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    // Read lazily: only enough prompts to keep the 256-row buffer filled, not the whole run.
    expect(stream.tokensRead()).toBeLessThanOrEqual(256 + 200 + 96);
    expect(tf.memory().numTensors).toBe(before);
    const one = hookRows(world, taskEvalBatches(world.task!, 0, 2)[0], 'blocks.0.hook_resid_post');
    expect(one.rows.length).toBe(2 * 6 * 64);
  });

  it('a cancelled training job keeps, saves and evaluates the weights so far', async () => {
    let calls = 0;
    const out = path.join(tmp, 'cancelled');
    const events: string[] = [];
    const r = await runSaeJob({ ...DEFAULT_SAE_JOB, target: WORLD_BASE, hook: 'blocks.0.hook_resid_post', tokens: 100_000, batchSize: 128, evalSamples: 5, outDir: out, logEvery: 1, shouldCancel: () => ++calls > 3, onEvent: (e) => events.push(e.kind) });
    expect(r.status).toBe('cancelled');
    expect(r.steps).toBe(3);
    expect(readSae(out).cfg.d_in).toBe(64);
    expect(JSON.parse(fs.readFileSync(path.join(out, SAE_SUMMARY_FILE), 'utf8')).status).toBe('cancelled');
    expect(events.filter((k) => k === 'progress').length).toBe(3);
    await expect(runSaeJob({ ...DEFAULT_SAE_JOB, target: WORLD_BASE, hook: 'blocks.0.hook_resid_post', tokens: 10, outDir: out })).rejects.toThrow(/exists and is not empty/);
  });

  it('refuses hooks an SAE cannot read', () => {
    expect(() => checkSaeHook(world.config, 'blocks.0.attn.hook_pattern')).toThrow(/not attention patterns/);
    expect(() => checkSaeHook(world.config, 'blocks.5.hook_resid_post')).toThrow(/outside the model's layers 0\.\.1/);
    expect(() => checkSaeHook(world.config, 'resid_post')).toThrow(/unknown hook 'resid_post'/);
  });

  it('mutual information of a binary feature with a label', () => {
    expect(binaryLabelMi([1, 1, 0, 0], ['a', 'a', 'b', 'b'])).toMatchObject({ mi: 1, best: 'a', pFireGivenBest: 1, pFire: 0.5 });
    expect(binaryLabelMi([1, 0, 1, 0], ['a', 'a', 'b', 'b']).mi).toBe(0);
    expect(binaryLabelMi([0, 0, 0, 0], ['a', 'b', 'c', 'd']).mi).toBe(0);
  });

  it('world prompts are labelled by their subject city, its country, and membership of the latent country', () => {
    const b = taskEvalBatches(world.task!, 0, 30)[0];
    const city = promptLabels('city', b, world.vocab, world.task);
    const country = promptLabels('country', b, world.vocab, world.task);
    const latent = promptLabels('latent_country', b, world.vocab, world.task, 25);
    expect(city[0]).toBe('city_0');
    expect(country[0]).toBe('country_0');
    expect(city[27]).toBe('city_27');
    expect(country[27]).toBe('country_5');
    expect(latent[27]).toBe('yes');
    expect(latent[0]).toBe('no');
  });

  it('a feature report: densities, top examples (highest first, the max position), histograms, logit effects, cosines, MI', () => {
    const sae = identitySae(64, 'blocks.0.hook_resid_post');
    const before = tf.memory().numTensors;
    const v = new Float32Array(64);
    v[3] = 2;
    const r = featureReport(world, sae, taskEvalBatches(world.task!, 0, 30), { top: 4, examples: 3, histogramBins: 5, vectors: { e3: v }, latentCity: 25 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.features.length).toBe(128);
    expect(r.labelKinds).toEqual(['set', 'city', 'country', 'latent_country']);
    expect(r.topByCosine.e3[0]).toBe(3);
    expect(r.features[3].cosines.e3).toBeCloseTo(1, 6);
    expect(r.features[64 + 3].cosines.e3).toBeCloseTo(-1, 6);
    const f = r.detailed.find((x) => x.topExamples && x.topExamples.length === 3)!;
    const acts = f.topExamples!.map((e) => e.activation);
    expect([...acts].sort((a, b) => b - a)).toEqual(acts);
    expect(f.topExamples![0].tokens.length).toBe(6);
    expect(f.topExamples![0].activation).toBeCloseTo(f.maxActivation, 5);
    expect(f.histogram!.length).toBe(5);
    expect(f.logitEffects!.promoted.length).toBe(4);
    expect(f.logitEffects!.promoted[0].value).toBeGreaterThanOrEqual(f.logitEffects!.suppressed[0].value);
    for (const x of r.features) for (const rel of Object.values(x.relevance)) expect(rel!.mi).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});
