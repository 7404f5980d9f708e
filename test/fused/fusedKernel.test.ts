import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/shared/backend';
import type { MetricsLine, ModelConfig, RunManifest, TrainConfig } from '../../src/shared/modelConfig';
import { initBackend } from '../../src/core/backend/initBackend';
import { FusedKernel, fusedKernelModule, fusedMisfit } from '../../src/core/fused/fusedKernel';
import { FUSED_BACKEND, fusedRefusal } from '../../src/core/fused/fusedTrainer';
import { readSafetensorsFileSync } from '../../src/core/io/safetensors';
import { toLiveModel } from '../../src/core/model/liveModel';
import { initParams, paramSpecs } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import { presetConfig } from '../../src/core/presets';
import { createTask } from '../../src/core/tasks/registry';
import { AdamW } from '../../src/core/train/adamw';
import { batchTensors, lastTokenLoss } from '../../src/core/train/evaluate';
import { listOptimizerStates, readTrainingState } from '../../src/core/train/optimizerState';
import { trainRun } from '../../src/core/train/trainRun';
import { Rng } from '../../src/core/util/rng';

/**
 * The fused wasm kernel (assembly/fused.ts) against the tfjs path, its reference: one step's loss and
 * gradients, AdamW, short training runs (metrics, checkpoints, optimizer state) and resume, on every
 * preset of the family it covers and the variants it supports.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
let backend: BackendInfo;
let tmp: string;

beforeAll(async () => {
  // Build output: (re)built here when missing or older than its source, as `npm ci`'s prepare does.
  const wasm = path.join(ROOT, 'out/fused/oocr-fused.wasm');
  const src = path.join(ROOT, 'assembly/fused.ts');
  if (!fs.existsSync(wasm) || fs.statSync(wasm).mtimeMs < fs.statSync(src).mtimeMs) {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build-fused.mjs'), '--quiet'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
  const mod = fusedKernelModule();
  expect('error' in mod ? mod.error : null).toBeNull();
  backend = await initBackend({ backend: 'wasm' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-fused-'));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The presets of the family, and variants of them the kernel covers (softmax, learned W_K, residual). */
const FAMILY: [label: string, preset: string, model: Partial<ModelConfig>][] = [
  ['ocr-factorized', 'ocr-factorized', {}],
  ['ocr-combined', 'ocr-combined', {}],
  ['two-hop-factorized', 'two-hop-factorized', {}],
  ['ocr-factorized softmax', 'ocr-factorized', { attention: 'softmax' }],
  ['ocr-combined softmax, learned W_K', 'ocr-combined', { attention: 'softmax', wK: 'learned' }],
  ['ocr-factorized learned W_K, residual', 'ocr-factorized', { wK: 'learned', residual: true }],
];

function familyConfig(preset: string, model: Partial<ModelConfig>, over: Partial<TrainConfig> = {}): TrainConfig {
  const c = presetConfig(preset);
  return { ...c, ...over, model: resolveConfig({ ...c.model, ...model }) };
}

/** max |a − b| / max |a|. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(b.length).toBe(a.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(a[i]));
  }
  return num / Math.max(den, 1e-30);
}

describe('fused kernel: one step against tfjs', () => {
  it.each(FAMILY)('%s: loss and gradients to 1e-5 relative, then the AdamW step', (_label, preset, model) => {
    const config = familyConfig(preset, model);
    const task = createTask(config.task, config.taskOptions);
    const live = toLiveModel(config.model, initParams(config.model, 3));
    const batch = task.sampleTrainBatch(new Rng(7), 96);
    const kernel = new FusedKernel(config.model, config.optimizer, task.seqLen);
    expect(kernel.names).toEqual(live.trainableNames);
    kernel.setParams(live.trainable.map((v) => v.dataSync() as Float32Array));

    const { value, grads } = tf.variableGrads(() => {
      const { tokens, targets } = batchTensors(batch);
      return lastTokenLoss(config.model, live.params, tokens, targets);
    }, live.trainable);
    const loss = kernel.gradients(batch);
    expect(Math.abs(loss - value.dataSync()[0]) / value.dataSync()[0]).toBeLessThan(1e-6);
    const g = kernel.grads();
    live.trainable.forEach((v, i) => expect(relDiff(grads[v.name].dataSync(), g[i]), live.trainableNames[i]).toBeLessThan(1e-5));

    // One AdamW step from the same gradients' state: weights and moments as src/core/train/adamw.ts's.
    const adam = new AdamW(live.trainable, config.optimizer);
    kernel.setState(adam.exportState());
    adam.apply(live.trainable.map((v) => grads[v.name]));
    kernel.step(batch);
    const after = kernel.params();
    const state = kernel.state();
    const ref = adam.exportState();
    expect(state.step).toBe(1);
    live.trainable.forEach((v, i) => {
      expect(relDiff(v.dataSync(), after[i]), `${live.trainableNames[i]} after the step`).toBeLessThan(1e-5);
      expect(relDiff(ref.m[i].data, state.m[i].data)).toBeLessThan(1e-5);
      expect(relDiff(ref.v[i].data, state.v[i].data)).toBeLessThan(1e-4);
    });
    tf.dispose([value, ...Object.values(grads)]);
    adam.dispose();
    live.dispose();
  });

  it('evaluates accuracy and loss as evaluateSets does', async () => {
    const { evaluateSets } = await import('../../src/core/train/evaluate');
    const config = familyConfig('ocr-combined', {});
    const task = createTask(config.task, config.taskOptions);
    const host = initParams(config.model, 5);
    const live = toLiveModel(config.model, host);
    const kernel = new FusedKernel(config.model, config.optimizer, task.seqLen);
    kernel.setParams(live.trainable.map((v) => v.dataSync() as Float32Array));
    const sets = task.evalSets(new Rng(9), 200);
    const ref = evaluateSets(config.model, live.params, sets);
    for (const set of sets) {
      const { acc, loss } = kernel.evaluate(set, 64);
      expect(acc).toBeCloseTo(ref[`${set.name}_acc`], 6);
      expect(Math.abs(loss - ref[`${set.name}_loss`]) / ref[`${set.name}_loss`]).toBeLessThan(1e-5);
    }
    live.dispose();
  });

  it('is chosen only for the models it covers, and can be turned off', () => {
    expect(fusedRefusal(presetConfig('ocr-factorized'), 'wasm')).toBeNull();
    expect(fusedRefusal(presetConfig('ocr-combined'), 'cpu')).toBeNull();
    expect(fusedRefusal(presetConfig('ocr-factorized'), 'wasm', false)).toMatch(/turned off/);
    expect(fusedRefusal(presetConfig('ocr-factorized'), 'tensorflow-gpu')).toMatch(/GPU/);
    for (const p of ['world-base', 'two-hop', 'reversal']) expect(fusedMisfit(presetConfig(p).model)).toMatch(/covers one-layer/);
    expect(fusedMisfit(resolveConfig({ ...presetConfig('ocr-factorized').model, nHeads: 2, dHead: 64, wK: 'learned' }))).toMatch(/more than one head/);
  });
});

type Tensors = Record<string, { shape: number[]; data: Float32Array }>;

interface RunFiles {
  manifest: RunManifest;
  metrics: MetricsLine[];
  checkpoints: Map<string, Tensors>;
}

function readRun(dir: string): RunFiles {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunManifest;
  const metrics = fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsLine);
  const checkpoints = new Map<string, Tensors>();
  for (const f of fs.readdirSync(path.join(dir, 'checkpoints')).sort()) {
    const { tensors } = readSafetensorsFileSync(path.join(dir, 'checkpoints', f));
    checkpoints.set(
      f,
      Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])),
    );
  }
  return { manifest, metrics, checkpoints };
}

describe('fused kernel: training runs against tfjs', () => {
  const SHORT: Partial<TrainConfig> = { steps: 30, logEvery: 10, checkpointEvery: 10, evalSamples: 60, batchSize: 63 };

  it.each(FAMILY)('%s: the same run files, losses, metrics and checkpoints (to tolerance)', async (label, preset, model) => {
    const config = familyConfig(preset, model, SHORT);
    const slug = label.replace(/\W+/g, '-');
    const fusedDir = path.join(tmp, `${slug}-fused`);
    const tfjsDir = path.join(tmp, `${slug}-tfjs`);
    const cancelAt = (n: number): (() => boolean) => {
      let calls = 0;
      return () => calls++ >= n;
    };
    // Stopped after 15 steps (a resumable checkpoint at 10 and at 15), then resumed: as a run that never stopped.
    const stopped = await trainRun({ config, preset, outDir: fusedDir, backend, finalEvalSamples: 100, shouldCancel: cancelAt(15) });
    expect(stopped.status).toBe('cancelled');
    expect(listOptimizerStates(fusedDir).map((o) => o.step)).toEqual([15]);
    expect(readTrainingState(listOptimizerStates(fusedDir)[0].file).names).toEqual(paramSpecs(config.model).filter((p) => p.trainable).map((p) => p.name));
    const f = await trainRun({ config, preset, outDir: fusedDir, backend, finalEvalSamples: 100, resume: true });
    // The reference stops and resumes at the same step (a cancelled run keeps its step-15 checkpoint).
    await trainRun({ config, preset, outDir: tfjsDir, backend, finalEvalSamples: 100, fused: false, shouldCancel: cancelAt(15) });
    const t = await trainRun({ config, preset, outDir: tfjsDir, backend, finalEvalSamples: 100, fused: false, resume: true });
    expect(f.status).toBe('completed');
    const a = readRun(fusedDir);
    const b = readRun(tfjsDir);
    expect(a.manifest.backend).toBe(FUSED_BACKEND);
    expect(b.manifest.backend).toBe(backend.name);
    expect(a.manifest.checkpoints).toEqual(b.manifest.checkpoints);
    expect(a.manifest.config).toEqual(b.manifest.config);
    expect(a.metrics.map((m) => m.step)).toEqual(b.metrics.map((m) => m.step));
    a.metrics.forEach((m, i) => {
      expect(Math.abs(m.loss - b.metrics[i].loss) / b.metrics[i].loss, `loss at step ${m.step}`).toBeLessThan(1e-4);
      expect(Object.keys(m.metrics)).toEqual(Object.keys(b.metrics[i].metrics));
      for (const [k, v] of Object.entries(m.metrics)) {
        if (k.endsWith('_loss')) expect(Math.abs(v - b.metrics[i].metrics[k]) / b.metrics[i].metrics[k], `${k} at step ${m.step}`).toBeLessThan(1e-4);
        else expect(Math.abs(v - b.metrics[i].metrics[k]), `${k} at step ${m.step}`).toBeLessThanOrEqual(2 / 60);
      }
    });
    expect([...a.checkpoints.keys()]).toEqual([...b.checkpoints.keys()]);
    for (const [file, tensors] of a.checkpoints) {
      const ref = b.checkpoints.get(file) as Tensors;
      expect(Object.keys(tensors)).toEqual(Object.keys(ref));
      for (const [name, x] of Object.entries(tensors)) {
        expect(x.shape, name).toEqual(ref[name].shape);
        expect(relDiff(ref[name].data, x.data), `${file} ${name}`).toBeLessThan(1e-3);
      }
    }
    for (const k of Object.keys(t.finalMetrics)) {
      if (k.endsWith('_acc')) expect(Math.abs(f.finalMetrics[k] - t.finalMetrics[k]), k).toBeLessThanOrEqual(2 / 100);
    }
    // Completed: no optimizer state left, as on the tfjs path.
    expect(listOptimizerStates(fusedDir)).toEqual([]);
  });

  it('resumes a stopped fused run bit for bit as an uninterrupted fused run', async () => {
    const config = familyConfig('ocr-factorized', {}, SHORT);
    const whole = path.join(tmp, 'whole');
    const parts = path.join(tmp, 'parts');
    await trainRun({ config, preset: 'ocr-factorized', outDir: whole, backend, finalEvalSamples: 100 });
    let calls = 0;
    await trainRun({ config, preset: 'ocr-factorized', outDir: parts, backend, finalEvalSamples: 100, shouldCancel: () => calls++ >= 20 });
    await trainRun({ config, preset: 'ocr-factorized', outDir: parts, backend, finalEvalSamples: 100, resume: true });
    for (const f of fs.readdirSync(path.join(whole, 'checkpoints'))) {
      expect(fs.readFileSync(path.join(parts, 'checkpoints', f)).equals(fs.readFileSync(path.join(whole, 'checkpoints', f))), f).toBe(true);
    }
    const strip = (dir: string): unknown[] => readRun(dir).metrics.map(({ time: _time, ...rest }) => (void _time, rest));
    expect(strip(parts)).toEqual(strip(whole));
    expect(readRun(parts).manifest.finalMetrics).toEqual(readRun(whole).manifest.finalMetrics);
  });

  it('leaves models it does not cover on the tfjs path', async () => {
    const config = { ...presetConfig('two-hop'), steps: 2, logEvery: 1, checkpointEvery: 0, evalSamples: 8, batchSize: 8 };
    const dir = path.join(tmp, 'two-hop');
    await trainRun({ config, preset: 'two-hop', outDir: dir, backend, finalEvalSamples: 8 });
    expect(readRun(dir).manifest.backend).toBe(backend.name);
  });
});
