import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendInfo } from '../../src/shared/backend';
import type { MetricsLine, RunManifest, TrainConfig } from '../../src/shared/modelConfig';
import { initBackend } from '../../src/core/backend/initBackend';
import { checkpointPath, readManifest, readMetrics, RUN_FILE } from '../../src/core/io/runStore';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { presetConfig } from '../../src/core/presets';
import { JobError } from '../../src/core/jobs/jobError';
import { checkTrainConfig, trainRun, type TrainResult } from '../../src/core/train/trainRun';
import { FUSED_BACKEND, fusedRefusal } from '../../src/core/fused/fusedTrainer';

/**
 * Real (short) training runs of the ocr-factorized preset on the backend that loads, checked through the
 * files they leave behind: run.json, metrics.jsonl and checkpoints/step-NNNNNN.safetensors.
 */

const METRIC_KEYS = [
  'train_fact_acc',
  'train_fact_loss',
  'train_impl_acc',
  'train_impl_loss',
  'test_fact_acc',
  'test_fact_loss',
  'test_impl_acc',
  'test_impl_loss',
];

let backend: BackendInfo;
let tmp: string;

beforeAll(async () => {
  backend = await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-trainrun-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

let dirCount = 0;
/** A fresh, not yet existing run folder inside the temp dir. */
function runDir(label: string): string {
  dirCount += 1;
  return path.join(tmp, `${label}-${dirCount}`);
}

/** The ocr-factorized preset cut down to a short run. */
function shortConfig(patch: Partial<TrainConfig> = {}, optimizer: Partial<TrainConfig['optimizer']> = {}): TrainConfig {
  const c = presetConfig('ocr-factorized');
  return { ...c, evalSamples: 120, ...patch, optimizer: { ...c.optimizer, ...optimizer } };
}

function train(config: TrainConfig, outDir: string): Promise<TrainResult> {
  return trainRun({ config, preset: 'ocr-factorized', outDir, backend, finalEvalSamples: 120 });
}

/** Every tensor of the checkpoint at `step`, by name. */
function weightsAt(dir: string, step: number): Record<string, Float32Array> {
  const ck = loadCheckpoint(checkpointPath(dir, step));
  return Object.fromEntries(Object.entries(ck.params).map(([name, t]) => [name, t.data]));
}

function rawMetricsLines(dir: string): MetricsLine[] {
  return fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as MetricsLine);
}

describe('trainRun: a short ocr-factorized run', () => {
  const steps = 60;
  const config = shortConfig({ steps, logEvery: 20, checkpointEvery: 25 });
  let dir: string;
  let result: TrainResult;

  beforeAll(async () => {
    dir = runDir('short');
    result = await train(config, dir);
  });

  it('returns a completed result for every step', () => {
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(steps);
    expect(result.runDir).toBe(path.resolve(dir));
    expect(result.seconds).toBeGreaterThan(0);
    expect(Object.keys(result.finalMetrics).sort()).toEqual([...METRIC_KEYS].sort());
  });

  it('writes run.json: completed, step = steps, checkpoints listed, final metrics, the backend it ran on', () => {
    const m: RunManifest = readManifest(dir);
    expect(m.status).toBe('completed');
    expect(m.error).toBeUndefined();
    expect(m.step).toBe(steps);
    // The fused wasm kernel trains the factorization presets where it fits (run.json says so).
    expect(m.backend).toBe(fusedRefusal(checkTrainConfig(config), backend.name) === null ? FUSED_BACKEND : backend.name);
    expect(m.preset).toBe('ocr-factorized');
    expect(m.id).toBe(path.basename(dir));
    expect(m.config).toEqual(checkTrainConfig(config));
    expect(m.seconds).toBeGreaterThan(0);
    expect(m.versions.tfjs).toBe(tf.version.tfjs);
    expect(m.checkpoints).toEqual([
      { step: 25, file: path.join('checkpoints', 'step-000025.safetensors') },
      { step: 50, file: path.join('checkpoints', 'step-000050.safetensors') },
      { step: 60, file: path.join('checkpoints', 'step-000060.safetensors') },
    ]);
    const fm = m.finalMetrics ?? {};
    expect(Object.keys(fm).sort()).toEqual([...METRIC_KEYS].sort());
    for (const k of METRIC_KEYS) {
      expect(Number.isFinite(fm[k]), k).toBe(true);
      if (k.endsWith('_acc')) {
        expect(fm[k]).toBeGreaterThanOrEqual(0);
        expect(fm[k]).toBeLessThanOrEqual(1);
      } else {
        expect(fm[k]).toBeGreaterThan(0);
      }
    }
    // The numbers in run.json are the ones trainRun returned.
    expect(fm).toEqual(result.finalMetrics);
  });

  it('writes metrics.jsonl at step 1, every logEvery steps and the last step', () => {
    const lines = readMetrics(dir);
    expect(lines.map((l) => l.step)).toEqual([1, 20, 40, 60]);
    let lastTime = -1;
    for (const l of lines) {
      expect(Number.isFinite(l.loss)).toBe(true);
      expect(l.time).toBeGreaterThanOrEqual(lastTime);
      lastTime = l.time;
      expect(Object.keys(l.metrics).sort()).toEqual([...METRIC_KEYS].sort());
    }
    // 60 steps at lr 5e-3 already bring the training loss down from its start (≈ ln 128).
    expect(lines[0].loss).toBeGreaterThan(lines[lines.length - 1].loss);
  });

  it('writes checkpoints at checkpointEvery and at the end, and nothing else', () => {
    expect(fs.readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual([
      'step-000025.safetensors',
      'step-000050.safetensors',
      'step-000060.safetensors',
    ]);
  });

  it('the final checkpoint gives the model config, step and task back', () => {
    const ck = loadCheckpoint(checkpointPath(dir, steps));
    expect(ck.config).toEqual(checkTrainConfig(config).model);
    expect(ck.meta.step).toBe(steps);
    expect(ck.meta.task).toBe('ocr-recall');
    expect(ck.meta.taskOptions).toEqual({});
    expect(ck.params['blocks.0.attn.W_V'].shape).toEqual([1, 128, 8]);
    expect(ck.params['blocks.0.attn.W_O'].shape).toEqual([1, 8, 128]);
    for (const [name, t] of Object.entries(ck.params)) {
      expect(t.data.every(Number.isFinite), name).toBe(true);
    }
  });
});

describe('trainRun: determinism', () => {
  const config = shortConfig({ steps: 50, logEvery: 10, checkpointEvery: 25, seed: 3 });
  let a: string;
  let b: string;
  let c: string;

  beforeAll(async () => {
    a = runDir('det-a');
    b = runDir('det-b');
    c = runDir('det-c');
    await train(config, a);
    await train(config, b);
    await train({ ...config, seed: 4 }, c);
  });

  it('a final step that is a multiple of checkpointEvery is saved (and listed) once', () => {
    expect(readManifest(a).checkpoints.map((ck) => ck.step)).toEqual([25, 50]);
    expect(fs.readdirSync(path.join(a, 'checkpoints')).sort()).toEqual(['step-000025.safetensors', 'step-000050.safetensors']);
  });

  it('the same config and seed give bit-identical checkpoint tensors', () => {
    for (const step of [25, 50]) {
      const wa = weightsAt(a, step);
      const wb = weightsAt(b, step);
      expect(Object.keys(wa).sort()).toEqual(Object.keys(wb).sort());
      for (const name of Object.keys(wa)) {
        expect(wb[name], `${name} at step ${step}`).toEqual(wa[name]);
        // toEqual on Float32Arrays compares values; also compare the raw bytes (−0 vs 0, NaN payloads).
        expect(Buffer.from(wb[name].buffer).equals(Buffer.from(wa[name].buffer)), name).toBe(true);
      }
    }
  });

  it('the same config and seed give identical metrics.jsonl losses and metrics', () => {
    const la = rawMetricsLines(a);
    const lb = rawMetricsLines(b);
    expect(la.map((l) => l.step)).toEqual([1, 10, 20, 30, 40, 50]);
    expect(lb.map((l) => l.loss)).toEqual(la.map((l) => l.loss));
    expect(lb.map((l) => l.metrics)).toEqual(la.map((l) => l.metrics));
    expect(readManifest(b).finalMetrics).toEqual(readManifest(a).finalMetrics);
  });

  it('a different seed gives different weights', () => {
    const wa = weightsAt(a, 50);
    const wc = weightsAt(c, 50);
    for (const name of ['blocks.0.attn.W_Q', 'blocks.0.attn.W_V', 'blocks.0.attn.W_O']) {
      expect(Buffer.from(wc[name].buffer).equals(Buffer.from(wa[name].buffer)), name).toBe(false);
    }
    // Frozen identity matrices do not depend on the seed.
    expect(wc['embed.W_E']).toEqual(wa['embed.W_E']);
  });
});

describe('trainRun: resources and refusals', () => {
  it('leaves no tfjs tensors behind, after a completed and after a failed run', async () => {
    const keep = tf.tensor1d([1, 2, 3]);
    try {
      const before = tf.memory().numTensors;
      await train(shortConfig({ steps: 30, logEvery: 10, checkpointEvery: 10 }), runDir('mem'));
      expect(tf.memory().numTensors).toBe(before);
      await expect(train(shortConfig({ steps: 50, checkpointEvery: 2 }, { lr: 10, weightDecay: 10 }), runDir('mem-nan'))).rejects.toBeInstanceOf(
        JobError,
      );
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      keep.dispose();
    }
  });

  it('refuses to train into a folder that already holds a run and leaves its run.json alone', async () => {
    const dir = runDir('existing');
    await train(shortConfig({ steps: 5, logEvery: 5, checkpointEvery: 0 }), dir);
    const manifestBefore = fs.readFileSync(path.join(dir, RUN_FILE));
    const metricsBefore = fs.readFileSync(path.join(dir, 'metrics.jsonl'));
    const checkpointsBefore = fs.readdirSync(path.join(dir, 'checkpoints'));
    expect(checkpointsBefore).toEqual(['step-000005.safetensors']);

    await expect(train(shortConfig({ steps: 7 }), dir)).rejects.toThrow(/already holds a run/);

    expect(fs.readFileSync(path.join(dir, RUN_FILE)).equals(manifestBefore)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'metrics.jsonl')).equals(metricsBefore)).toBe(true);
    expect(fs.readdirSync(path.join(dir, 'checkpoints'))).toEqual(checkpointsBefore);
  });

  it('rejects an invalid config before creating the run folder', async () => {
    const dir = runDir('invalid');
    await expect(train(shortConfig({}, { lr: -1 }), dir)).rejects.toThrow(/invalid train config/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('checkTrainConfig', () => {
  it('accepts the presets as they are', () => {
    expect(checkTrainConfig(presetConfig('ocr-factorized'))).toEqual(presetConfig('ocr-factorized'));
    expect(checkTrainConfig(presetConfig('ocr-combined'))).toEqual(presetConfig('ocr-combined'));
  });

  it('rejects a negative learning rate, naming optimizer.lr', () => {
    expect(() => checkTrainConfig(shortConfig({}, { lr: -0.01 }))).toThrow(/invalid train config: .*optimizer\.lr/);
  });

  it('rejects a learning rate or weight decay above the schema limit of 10', () => {
    expect(() => checkTrainConfig(shortConfig({}, { lr: 11 }))).toThrow(/optimizer\.lr/);
    expect(() => checkTrainConfig(shortConfig({}, { weightDecay: 11 }))).toThrow(/optimizer\.weightDecay/);
  });

  it('rejects a model vocabulary that does not match the task', () => {
    const c = shortConfig();
    // dModel and dHead follow dVocab so the model itself is consistent (identity embed/unembed/W_K).
    const model = { ...c.model, dVocab: 64, dModel: 64, dHead: 64 };
    expect(() => checkTrainConfig({ ...c, model })).toThrow("task 'ocr-recall' has 128 tokens but model.dVocab is 64");
  });

  it('rejects dVocab 64 alone, since identity embedding needs dModel = dVocab', () => {
    const c = shortConfig();
    expect(() => checkTrainConfig({ ...c, model: { ...c.model, dVocab: 64 } })).toThrow(/embed 'identity' needs dModel \(128\) = dVocab \(64\)/);
  });

  it('rejects an OV rank larger than dModel', () => {
    const c = shortConfig();
    expect(() => checkTrainConfig({ ...c, model: { ...c.model, ovRank: 256 } })).toThrow('ovRank 256 exceeds dModel 128');
  });

  it('rejects a context shorter than the task sequences', () => {
    const c = shortConfig();
    expect(() => checkTrainConfig({ ...c, model: { ...c.model, nCtx: 8 } })).toThrow('task sequences have 16 tokens but model.nCtx is 8');
  });

  it('rejects an unknown task, naming the known ones', () => {
    expect(() => checkTrainConfig({ ...shortConfig(), task: 'no-such-task' })).toThrow(/unknown task 'no-such-task': expected one of .*ocr-recall/);
  });

  it('rejects unknown task options and unknown top-level fields', () => {
    expect(() => checkTrainConfig({ ...shortConfig(), taskOptions: { nNames: 'many' } })).toThrow(/ocr-recall options: nNames/);
    expect(() => checkTrainConfig({ ...shortConfig(), stepz: 10 })).toThrow(/invalid train config/);
  });
});

describe('trainRun: divergence guard', () => {
  // lr 10 with weight decay 10: AdamW's decoupled decay multiplies every trained weight by
  // (1 − lr·wd) = −99 per step, so within a handful of steps the weights (and then the linear-
  // attention logits) overflow float32 and the loss becomes NaN. Measured here: NaN at step 8 for
  // seeds 0–5, with the last checkpoint (every 2 steps) at step 6.
  const config = shortConfig({ steps: 200, logEvery: 50, checkpointEvery: 2 }, { lr: 10, weightDecay: 10 });
  let dir: string;
  let error: unknown;

  beforeAll(async () => {
    dir = runDir('nan');
    try {
      await train(config, dir);
    } catch (err) {
      error = err;
    }
  });

  it('rejects with a JobError naming the loss and the last good checkpoint', () => {
    expect(error).toBeInstanceOf(JobError);
    const e = error as JobError;
    expect(e.message).toContain('loss became');
    expect(e.message).toContain('last good checkpoint');
    expect(e.message).toMatch(/loss became (NaN|-?Infinity) at step \d+/);
    expect(e.runDir).toBe(path.resolve(dir));
  });

  it('points at an existing last good checkpoint whose tensors are all finite', () => {
    const e = error as JobError;
    expect(e.lastGoodCheckpoint).not.toBeNull();
    const file = e.lastGoodCheckpoint as string;
    expect(fs.existsSync(file)).toBe(true);
    expect(e.message).toContain(path.relative(path.resolve(dir), file));
    const ck = loadCheckpoint(file);
    expect(ck.config).toEqual(checkTrainConfig(config).model);
    for (const [name, t] of Object.entries(ck.params)) {
      expect(t.data.every(Number.isFinite), name).toBe(true);
    }
    // It is the newest checkpoint on disk, and an early one: the run diverged quickly.
    const files = fs.readdirSync(path.join(dir, 'checkpoints')).sort();
    expect(path.basename(file)).toBe(files[files.length - 1]);
    expect(ck.meta.step).toBeGreaterThan(0);
    expect(ck.meta.step).toBeLessThan(50);
    expect(ck.meta.step % 2).toBe(0);
  });

  it('marks run.json failed with the error', () => {
    const m = readManifest(dir);
    expect(m.status).toBe('failed');
    expect(m.error).toBe((error as Error).message);
    expect(m.finalMetrics).toBeUndefined();
    // The manifest's step is that of the last checkpoint, below the configured steps.
    expect(m.step).toBe(loadCheckpoint((error as JobError).lastGoodCheckpoint as string).meta.step);
    expect(m.checkpoints.map((c) => c.step)).toContain(m.step);
  });

  it('with no periodic checkpoints, says none had been saved', async () => {
    const d = runDir('nan-nock');
    const err = await train({ ...config, checkpointEvery: 0 }, d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as JobError).message).toMatch(/loss became .* no checkpoint had been saved yet/);
    expect((err as JobError).lastGoodCheckpoint).toBeNull();
    expect(readManifest(d).status).toBe('failed');
  });
});
