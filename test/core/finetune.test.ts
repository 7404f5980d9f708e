import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendInfo } from '../../src/shared/backend';
import type { FinetuneMethod } from '../../src/shared/finetune';
import type { Metrics } from '../../src/shared/modelConfig';
import { initBackend } from '../../src/core/backend/initBackend';
import { loraVsSteering, reportOf, type LoraVsSteeringAnalysis } from '../../src/core/finetune/loraVsSteering';
import { buildAdaptation, DEFAULT_LORA, finetuneMetrics, finetuneTaskFor, loadBase, loadFinetuned, runFinetune, type FinetuneResult } from '../../src/core/finetune/runFinetune';
import { readManifest, readMetrics, RUN_FILE } from '../../src/core/io/runStore';
import { readSafetensorsFileSync } from '../../src/core/io/safetensors';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { forward, type Params } from '../../src/core/model/forward';
import { paramSpecs } from '../../src/core/model/params';
import { presetConfig } from '../../src/core/presets';
import { trainRun } from '../../src/core/train/trainRun';
import { Rng } from '../../src/core/util/rng';

/**
 * Real, short fine-tunes of the shipped world model (resources/workspace/world-base) with each method, and
 * the LoRA-vs-steering experiment end to end, checked through the files they write.
 */

const BASE = path.resolve('resources/workspace/world-base');
const BASE_CKPT = path.join(BASE, 'checkpoints', 'step-002500.safetensors');
const STEPS = 20;

let backend: BackendInfo;
let tmp: string;
let baseHashes: Record<string, string>;

function hashFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

beforeAll(async () => {
  backend = await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-finetune-'));
  baseHashes = hashFiles(BASE);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function finetune(method: FinetuneMethod, outDir: string, base = BASE): Promise<FinetuneResult> {
  return runFinetune({
    base,
    task: { kind: 'locations' },
    method,
    steps: STEPS,
    batchSize: 32,
    lr: method === 'steer' ? 3e-2 : 3e-3,
    weightDecay: 0,
    seed: 1,
    logEvery: 10,
    evalSamples: 20,
    outDir,
    backend,
  });
}

function expectAcc(x: number | undefined): void {
  expect(x).toBeTypeOf('number');
  expect(x).toBeGreaterThanOrEqual(0);
  expect(x).toBeLessThanOrEqual(1);
}

function toParams(host: Record<string, { shape: number[]; data: Float32Array }>): Params {
  return Object.fromEntries(Object.entries(host).map(([k, h]) => [k, tf.tensor(h.data, h.shape)]));
}

/** The weights file each method writes, relative to the run. */
const WEIGHTS: Record<FinetuneMethod, string> = {
  lora: 'adapter.safetensors',
  steer: 'steering.safetensors',
  full: path.join('checkpoints', 'step-000020.safetensors'),
};

describe.each(['lora', 'steer', 'full'] as const)('runFinetune: %s on world-base, 20 steps', (method) => {
  let dir: string;
  let result: FinetuneResult;

  beforeAll(async () => {
    dir = path.join(tmp, method);
    result = await finetune(method, dir);
  });

  it('completes and records the fine-tune in run.json', () => {
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(STEPS);
    expect(result.runDir).toBe(dir);
    const m = readManifest(dir);
    expect(m.status).toBe('completed');
    expect(m.step).toBe(STEPS);
    expect(m.config.task).toBe('world-locations');
    expect(m.config.model).toEqual(loadCheckpoint(BASE_CKPT).config);
    expect(m.finetune?.method).toBe(method);
    // Stored relative to the run folder so workspaces can move.
    expect(path.isAbsolute(m.finetune?.base ?? '')).toBe(false);
    expect(path.resolve(dir, m.finetune?.base ?? '')).toBe(path.resolve(BASE_CKPT));
    expect(m.finetune?.weights).toBe(WEIGHTS[method]);
    expect(result.weightsFile).toBe(path.join(dir, WEIGHTS[method]));
    if (method === 'lora') expect(m.finetune?.lora).toEqual(DEFAULT_LORA);
    else expect(m.finetune?.lora).toBeUndefined();
    if (method === 'steer') expect(m.finetune?.steer).toEqual({ layer: 0, positions: 'all' });
    else expect(m.finetune?.steer).toBeUndefined();
    expect(m.checkpoints).toEqual(method === 'full' ? [{ step: STEPS, file: WEIGHTS.full }] : []);

    const fm = m.finalMetrics as Metrics;
    expectAcc(fm.heldout_acc);
    expectAcc(fm.side_effect_acc);
    for (const k of ['heldout_country_acc', 'heldout_language_acc', 'side_country_acc', 'side_language_acc', 'side_size_acc', 'side_dist_acc']) expectAcc(fm[k]);
    expect(fm.heldout_acc).toBeCloseTo((fm.heldout_country_acc + fm.heldout_language_acc) / 2, 12);
    expect(fm.side_effect_acc).toBeCloseTo((fm.side_country_acc + fm.side_language_acc + fm.side_size_acc + fm.side_dist_acc) / 4, 12);
    expect(result.metrics).toEqual(fm);
    // Logged at step 1, every logEvery and at the end.
    expect(readMetrics(dir).map((l) => l.step)).toEqual([1, 10, 20]);
    for (const l of readMetrics(dir)) expect(Number.isFinite(l.loss)).toBe(true);
  });

  it('writes the weights file, and loadFinetuned reads it back', () => {
    const file = path.join(dir, WEIGHTS[method]);
    expect(fs.existsSync(file)).toBe(true);
    const loaded = loadFinetuned(dir);
    expect(loaded.manifest.finetune?.method).toBe(method);
    expect(loaded.base.checkpoint.file).toBe(BASE_CKPT);
    expect(loaded.base.checkpoint.config.dModel).toBe(64);
    const base = loaded.base.checkpoint.params;
    if (method === 'lora') {
      const { tensors, metadata } = readSafetensorsFileSync(file);
      expect(Object.keys(tensors).sort()).toEqual(['blocks.0.mlp.W_out.lora_A', 'blocks.0.mlp.W_out.lora_B']);
      expect(tensors['blocks.0.mlp.W_out.lora_A'].shape).toEqual([256, 4]);
      expect(tensors['blocks.0.mlp.W_out.lora_B'].shape).toEqual([4, 64]);
      expect(metadata.format).toBe('oocr-lora/1');
      expect(JSON.parse(metadata.lora)).toEqual(DEFAULT_LORA);
      expect(loaded.trained).toEqual(tensors);
      // Trained: B left zero.
      expect(tensors['blocks.0.mlp.W_out.lora_B'].data.some((x) => x !== 0)).toBe(true);
    } else if (method === 'steer') {
      const { tensors, metadata } = readSafetensorsFileSync(file);
      expect(Object.keys(tensors)).toEqual(['steering_vector']);
      expect(tensors.steering_vector.shape).toEqual([64]);
      expect(metadata.format).toBe('oocr-steer/1');
      expect(loaded.trained).toEqual(tensors);
      // Trained well beyond its N(0, 0.01²) start.
      expect(Math.hypot(...tensors.steering_vector.data)).toBeGreaterThan(0.2);
    } else {
      const ck = loadCheckpoint(file);
      expect(ck.meta.step).toBe(STEPS);
      expect(ck.meta.task).toBe('world-locations');
      expect(Object.keys(loaded.trained).sort()).toEqual(paramSpecs(ck.config).map((s) => s.name).sort());
      for (const [k, h] of Object.entries(ck.params)) expect(loaded.trained[k].data).toEqual(h.data);
      expect(loaded.trained['blocks.0.mlp.W_out'].data).not.toEqual(base['blocks.0.mlp.W_out'].data);
    }

    // Rebuilt from the saved tensors, the adaptation exports exactly them and changes the model's output.
    const start = tf.memory().numTensors;
    const config = loaded.base.checkpoint.config;
    const a = buildAdaptation(config, base, method, { lora: loaded.manifest.finetune?.lora, steer: loaded.manifest.finetune?.steer, seed: 0, trained: loaded.trained });
    const exported = a.export();
    for (const [k, h] of Object.entries(loaded.trained)) expect(exported[k].data).toEqual(h.data);
    const baseParams = toParams(base);
    const task = finetuneTaskFor(loaded.base, loaded.manifest.config.taskOptions);
    const b = task.trainPrompts(new Rng(3), 8);
    const diff = tf.tidy(() => {
      const t = tf.tensor2d(b.tokens, [b.batch, b.seqLen], 'int32');
      return forward(config, a.params(), t, { interventions: a.interventions() }).logits.sub(forward(config, baseParams, t).logits).abs().max().dataSync()[0];
    });
    expect(diff).toBeGreaterThan(1e-3);
    const m = tf.tidy(() => finetuneMetrics(task, config, a.params(), a.interventions(), new Rng(4), 10));
    expectAcc(m.heldout_acc);
    expectAcc(m.side_effect_acc);
    Object.values(baseParams).forEach((t) => t.dispose());
    a.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('refuses a second run into the same folder', async () => {
    const before = fs.readFileSync(path.join(dir, RUN_FILE), 'utf8');
    await expect(finetune(method, dir)).rejects.toThrow(/already holds a run/);
    expect(fs.readFileSync(path.join(dir, RUN_FILE), 'utf8')).toBe(before);
  });
});

describe('runFinetune: bases it refuses', () => {
  it('a model pretrained on another task (a 5-step ocr-factorized run), as a run folder or a checkpoint file', async () => {
    const ocrDir = path.join(tmp, 'ocr-base');
    const c = presetConfig('ocr-factorized');
    await trainRun({ config: { ...c, steps: 5, batchSize: 16, logEvery: 5, checkpointEvery: 0, evalSamples: 8 }, preset: 'ocr-factorized', outDir: ocrDir, backend, finalEvalSamples: 8 });
    const out = path.join(tmp, 'from-ocr');
    await expect(finetune('lora', out, ocrDir)).rejects.toThrow(/'world'.*'ocr-recall'/);
    await expect(finetune('steer', out, path.join(ocrDir, 'checkpoints', 'step-000005.safetensors'))).rejects.toThrow(/'world'/);
    expect(() => loadBase(ocrDir)).toThrow(/pretrained on the 'world' task/);
    // Refused before anything is written.
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a base that does not exist', async () => {
    await expect(finetune('lora', path.join(tmp, 'nope-out'), path.join(tmp, 'no-such-run'))).rejects.toThrow(/not found/);
  });
});

/**
 * Regression test (fixed): each logged evaluation of a fine-tune once drew its sets anew from
 * `root.fork(2)`, and Rng.fork advances `root`, so every log step measured a different random sample and
 * the curve mixed model change with sampling noise (±0.1 at evalSamples 20). The eval sets are now fixed
 * once per run, as in training. With a learning rate so small that the model does not change, the logged
 * metrics must not move.
 */
describe('runFinetune metrics curve', () => {
  it('measures every logged step on the same eval sequences', async () => {
    const dir = path.join(tmp, 'curve');
    await runFinetune({ base: BASE, task: { kind: 'locations' }, method: 'steer', steps: 3, batchSize: 8, lr: 1e-9, weightDecay: 0, seed: 2, logEvery: 1, evalSamples: 20, outDir: dir, backend });
    const lines = readMetrics(dir);
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3]);
    for (const l of lines.slice(1)) {
      for (const [k, v] of Object.entries(lines[0].metrics ?? {})) expect(l.metrics?.[k]).toBeCloseTo(v, 4);
    }
  });
});

describe('loraVsSteering end to end (tiny settings)', () => {
  let out: string;
  let a: LoraVsSteeringAnalysis;

  beforeAll(async () => {
    out = path.join(tmp, 'lvs');
    a = await loraVsSteering({ base: BASE, kind: 'locations', seed: 0, outDir: out, backend, loraSteps: 20, steerSteps: 20, evalSamples: 20, deltaPrompts: 8, batchSize: 32 });
  });

  it('writes the three runs and analyses/lora_vs_steering.{json,safetensors}', () => {
    for (const sub of ['lora', 'steer', 'steer-seed2']) expect(readManifest(path.join(out, sub)).status).toBe('completed');
    expect(a.runs).toEqual({ lora: path.join(out, 'lora'), steer: path.join(out, 'steer'), steer_seed2: path.join(out, 'steer-seed2') });
    const json = JSON.parse(fs.readFileSync(path.join(out, 'analyses', 'lora_vs_steering.json'), 'utf8')) as LoraVsSteeringAnalysis;
    // On disk the record names its folders relative to the study, so the workspace can move.
    expect(json).toEqual({ ...JSON.parse(JSON.stringify(a)), run: '.', runs: { lora: 'lora', steer: 'steer', steer_seed2: 'steer-seed2' } });
    expect(json.hook).toBe('blocks.0.hook_resid_post');
    expect(a.run).toBe(out);

    const { tensors, metadata } = readSafetensorsFileSync(path.join(out, 'analyses', 'lora_vs_steering.safetensors'));
    const nTokens = 2 * 8 * 6;
    expect(tensors.deltas.shape).toEqual([nTokens, 64]);
    expect(tensors.natural_sv.shape).toEqual([64]);
    expect(tensors.trained_sv.shape).toEqual([64]);
    expect(tensors.trained_sv_seed2.shape).toEqual([64]);
    expect(metadata).toMatchObject({ hook: 'blocks.0.hook_resid_post', n_train_tokens: '48', n_unrelated_tokens: '48' });
    expect(Array.from(tensors.natural_sv.data)).toEqual(Array.from(Float32Array.from(a.deltas.all.naturalVector)));
    // The trained vector is the one the steer run saved.
    expect(tensors.trained_sv.data).toEqual(readSafetensorsFileSync(path.join(out, 'steer', 'steering.safetensors')).tensors.steering_vector.data);
    expect(a.deltas.train.nTokens).toBe(48);
    expect(a.deltas.unrelated.nTokens).toBe(48);
    expect(a.deltas.all.nTokens).toBe(nTokens);
  });

  it('reports finite numbers in range', () => {
    const r = reportOf(a);
    expect(Object.keys(r).sort()).toEqual(['acc', 'cos_trained_across_seeds', 'cos_trained_vs_natural', 'lora_delta', 'run', 'side_effect_acc']);
    for (const k of ['base', 'lora', 'natural_sv', 'trained_sv'] as const) {
      expectAcc(r.acc[k]);
      expectAcc(r.side_effect_acc[k]);
    }
    for (const c of [r.cos_trained_vs_natural, r.cos_trained_across_seeds]) {
      expect(Number.isFinite(c)).toBe(true);
      expect(c).toBeGreaterThanOrEqual(-1 - 1e-9);
      expect(c).toBeLessThanOrEqual(1 + 1e-9);
    }
    for (const x of [r.lora_delta.mean_abs_cos, r.lora_delta.pc1_var_ratio]) {
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1 + 1e-9);
    }
    for (const v of Object.values(a.norms)) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(a.latentCity).toBeTypeOf('number');
    expect(a.chance).toBeCloseTo((1 / 6 + 1 / 4) / 2, 12);
    // 48 display rows (24 training tokens, 24 unrelated), |cos| in [0, 1].
    expect(a.cos_matrix.labels).toHaveLength(48);
    expect(a.cos_matrix.values).toHaveLength(48);
    for (const row of a.cos_matrix.values) for (const x of row) expect(x >= 0 && x <= 1).toBe(true);
    // ΔW = (alpha/r)·A·B of a rank-4 LoRA: at most 4 nonzero singular values.
    expect(a.delta_w_singular_values).toHaveLength(1);
    const sv = a.delta_w_singular_values[0];
    expect(sv.weight).toBe('blocks.0.mlp.W_out');
    expect(sv.values).toHaveLength(8);
    expect(sv.values[0]).toBeGreaterThan(0);
    for (const x of sv.values.slice(4)) expect(x).toBeLessThan(1e-4 * sv.values[0]);
  });

  it('samples the |cos| matrix over every position, the read-out included; caption means over all tokens', () => {
    const T = 6;
    const { labels, positions, readout, values } = a.cos_matrix;
    expect(positions).toHaveLength(48);
    // Positions as the labels name them; the read-out is the last position.
    expect(labels.map((l) => Number(/@(\d+)$/.exec(l)?.[1]))).toEqual(positions);
    expect(readout).toEqual(positions?.map((p) => p === T - 1));
    for (const half of [positions?.slice(0, 24), positions?.slice(24)]) expect([...new Set(half)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(labels.filter((l) => l.startsWith('train:'))).toHaveLength(24);
    expect(labels.some((l) => /^train:end@5$/.test(l))).toBe(true);
    expect(values).toHaveLength(48);

    // The block means, recomputed here from the deltas the study saved (all 96 tokens, not the sample).
    const { tensors } = readSafetensorsFileSync(path.join(out, 'analyses', 'lora_vs_steering.safetensors'));
    const full = blockMeansOf(tensors.deltas.data, tensors.deltas.shape[1], 48);
    const m = a.cos_block_means;
    expect(m).toBeDefined();
    expect(m?.n_train).toBe(48);
    expect(m?.n_unrelated).toBe(48);
    expect(m?.train).toBeCloseTo(full.train, 10);
    expect(m?.unrelated).toBeCloseTo(full.unrelated, 10);
    expect(m?.across).toBeCloseTo(full.across, 10);
    // The within-set means are the PC1 panel's mean |cos| of each set.
    expect(m?.train).toBe(a.deltas.train.meanAbsCos);
    expect(m?.unrelated).toBe(a.deltas.unrelated.meanAbsCos);
  });

  it('records the real-model study’s per-token cosines, layer sweep and seeds, and the questions behind every accuracy', () => {
    const d = a.delta_cos_trained;
    expect(d?.labels).toEqual(a.cos_matrix.labels);
    expect(d?.values).toHaveLength(48);
    for (const v of d?.values ?? []) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    expect(a.layer_sweep?.map((s) => s.hook)).toEqual(['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
    // At the study's hook the sweep reads the same tokens as the PC1 panel.
    expect(a.layer_sweep?.[0].pc1_var_ratio).toBeCloseTo(a.deltas.all.pc1VarRatio, 12);
    expect(a.layer_sweep?.[0].cos_natural_trained).toBeCloseTo(a.cos_trained_vs_natural, 12);
    expect(a.layer_sweep?.[1].cos_natural_trained).toBeUndefined();
    expect(a.seeds?.runs.map((r) => [r.seed, r.acc, r.side_effect_acc])).toEqual([
      [0, a.acc.trained_sv, a.side_effect_acc.trained_sv],
      [1000, a.metrics.trained_sv_seed2.heldout_acc, a.metrics.trained_sv_seed2.side_effect_acc],
    ]);
    expect(a.seeds?.cos[0][1]).toBeCloseTo(a.cos_trained_across_seeds, 12);
    // evalSamples 20 → 80 questions per set: 2 held-out sets (country, language), 4 side-effect sets.
    expect(a.evaluation).toEqual({
      seed: 0,
      heldout_sets: [
        { name: 'heldout_country', n: 80 },
        { name: 'heldout_language', n: 80 },
      ],
      side_effect_sets: ['country', 'language', 'size', 'dist'].map((r) => ({ name: `side_${r}`, n: 80 })),
    });
    for (const m of ['base', 'lora', 'natural_sv', 'trained_sv', 'trained_sv_seed2'] as const) {
      expect(a.eval_n?.acc[m]).toBe(160);
      expect(a.eval_n?.side_effect_acc[m]).toBe(320);
    }
    expect(a.seeds?.runs.map((r) => [r.n, r.side_effect_n])).toEqual([
      [160, 320],
      [160, 320],
    ]);
    // Each accuracy is a whole number of right answers out of n.
    for (const m of ['base', 'lora', 'natural_sv', 'trained_sv'] as const) {
      expect(Number.isInteger(Math.round(a.acc[m] * 160 * 1e6) / 1e6)).toBe(true);
      expect(Number.isInteger(Math.round(a.side_effect_acc[m] * 320 * 1e6) / 1e6)).toBe(true);
    }
  });

  it('refuses to overwrite an analysis', async () => {
    await expect(loraVsSteering({ base: BASE, kind: 'locations', seed: 0, outDir: out, backend, loraSteps: 1, steerSteps: 1, evalSamples: 4, deltaPrompts: 2 })).rejects.toThrow(
      /already holds a lora-vs-steering analysis/,
    );
  });
});

/** Mean off-diagonal |cos| per block of [n, d] rows whose first nTrain are training tokens, by plain loops. */
function blockMeansOf(data: Float32Array, d: number, nTrain: number): { train: number; unrelated: number; across: number } {
  const n = data.length / d;
  const rows = Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)));
  const sums = { train: [0, 0], unrelated: [0, 0], across: [0, 0] };
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let k = 0; k < d; k++) {
        ab += rows[i][k] * rows[j][k];
        aa += rows[i][k] ** 2;
        bb += rows[j][k] ** 2;
      }
      const c = aa === 0 || bb === 0 ? 0 : Math.abs(ab) / Math.sqrt(aa * bb);
      const key = i < nTrain && j < nTrain ? 'train' : i >= nTrain && j >= nTrain ? 'unrelated' : 'across';
      sums[key][0] += c;
      sums[key][1] += 1;
    }
  return { train: sums.train[0] / sums.train[1], unrelated: sums.unrelated[0] / sums.unrelated[1], across: sums.across[0] / sums.across[1] };
}

describe.each(['lora-vs-steering', 'lora-vs-steering-backdoor'])('the committed study %s', (name) => {
  const dir = path.resolve('resources/workspace', name, 'analyses');
  const record = (): LoraVsSteeringAnalysis => JSON.parse(fs.readFileSync(path.join(dir, 'lora_vs_steering.json'), 'utf8')) as LoraVsSteeringAnalysis;

  it('its |cos| sample holds every position of both sets, the read-out (position 5) included', () => {
    const { labels, positions, readout } = record().cos_matrix;
    expect(labels).toHaveLength(48);
    expect(labels.map((l) => Number(/@(\d+)$/.exec(l)?.[1]))).toEqual(positions);
    expect(readout).toEqual(positions?.map((p) => p === 5));
    for (const half of [positions?.slice(0, 24), positions?.slice(24)]) expect([...new Set(half)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('the caption’s block means are those of all its saved token deltas', () => {
    const r = record();
    const { tensors, metadata } = readSafetensorsFileSync(path.join(dir, 'lora_vs_steering.safetensors'));
    const nTrain = Number(metadata.n_train_tokens);
    const full = blockMeansOf(tensors.deltas.data, tensors.deltas.shape[1], nTrain);
    expect(r.cos_block_means?.n_train).toBe(nTrain);
    expect(r.cos_block_means?.n_unrelated).toBe(tensors.deltas.shape[0] - nTrain);
    expect(r.cos_block_means?.train).toBeCloseTo(full.train, 10);
    expect(r.cos_block_means?.unrelated).toBeCloseTo(full.unrelated, 10);
    expect(r.cos_block_means?.across).toBeCloseTo(full.across, 10);
  });
});

describe('the base model', () => {
  it('is byte-identical after every fine-tune above', () => {
    expect(Object.keys(baseHashes)).toContain(path.join('checkpoints', 'step-002500.safetensors'));
    expect(hashFiles(BASE)).toEqual(baseHashes);
  });
});
