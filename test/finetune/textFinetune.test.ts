import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendInfo } from '../../src/shared/backend';
import { initBackend } from '../../src/core/backend/initBackend';
import { writeJsonlExamples, type TextExample } from '../../src/core/data/jsonl';
import { createModuleLora } from '../../src/core/finetune/moduleLora';
import { textBatch, type EncodedExample } from '../../src/core/finetune/textBatches';
import { buildTextTrainee, encodeDataset, readSteeringVector, resolvePeftSpec, runTextFinetune, withHeadlines } from '../../src/core/finetune/textFinetune';
import { completionLoss, evaluateText } from '../../src/core/finetune/textObjective';
import { loadHfLiveModel, readHfModelConfig } from '../../src/core/hf/loadHfModel';
import { loadPeftAdapter } from '../../src/core/hf/peftAdapter';
import { writePeftAdapter } from '../../src/core/hf/peftWriter';
import { loadTokenizer } from '../../src/core/hf/tokenizer';
import { readDataset } from '../../src/core/data/datasetFolder';
import { readManifest, readMetrics } from '../../src/core/io/runStore';
import { analyzeRequest } from '../../src/core/runs/analyzeRequest';
import { forward, type Params } from '../../src/core/model/forward';
import { Rng } from '../../src/core/util/rng';
import { HAVE_NUMPY, makeModels } from '../hf/fixtures/pythonModels';
import { writeTinyGpt2 } from '../hf/fixtures/tinyGpt2';

/**
 * Fine-tuning Hugging Face model folders on text: a fresh LoRA and a zero vector are the base model on
 * every architecture, only the adapter or vector is trained, the PEFT adapter written round-trips to the
 * same logits, and a cancelled run keeps a loadable adapter.
 */

let backend: BackendInfo;
let tmp: string;
let gpt2: string;
let pyModels: string | null = null;

function hashDir(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) if (fs.statSync(path.join(dir, f)).isFile()) h.update(f).update(fs.readFileSync(path.join(dir, f)));
  return h.digest('hex');
}

/** A small learnable text task in the byte-BPE tokenizer's reach: a letter → its successor. */
function letterDataset(dir: string): void {
  const rng = new Rng(3);
  const ex = (i: number, label?: string): TextExample => {
    const c = String.fromCharCode(97 + (i % 12));
    return { prompt: `next ${c} is`, completion: ` ${String.fromCharCode(98 + (i % 12))}.`, ...(label ? { label } : {}) };
  };
  fs.mkdirSync(dir, { recursive: true });
  writeJsonlExamples(path.join(dir, 'train.jsonl'), Array.from({ length: 48 }, () => ex(rng.int(0, 9))));
  writeJsonlExamples(path.join(dir, 'eval.jsonl'), [10, 11].map((i) => ex(i, 'heldout_letter')));
  writeJsonlExamples(path.join(dir, 'side_effects.jsonl'), [0, 1, 2, 3].map((i) => ex(i, 'side_letter')));
}

beforeAll(async () => {
  backend = await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-textft-'));
  gpt2 = path.join(tmp, 'tiny-gpt2');
  writeTinyGpt2(gpt2);
  letterDataset(path.join(tmp, 'letters'));
  if (HAVE_NUMPY) pyModels = makeModels();
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  if (pyModels) fs.rmSync(pyModels, { recursive: true, force: true });
});

/** Random ids as examples of a model's vocabulary: a 5-token prompt and a 2-token completion. */
function randomRows(vocab: number, n: number, seed: number): EncodedExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => ({ ids: Int32Array.from({ length: 5 + (i % 3) }, () => rng.int(0, vocab - 1)), promptLen: 3 + (i % 3), label: 'x' }));
}

function modelFolders(): string[] {
  const out = [gpt2];
  if (pyModels) for (const name of ['gpt2', 'neox-sequential', 'llama-sharded', 'qwen2-f16', 'gemma', 'gemma2', 'gemma3-text-bf16']) out.push(path.join(pyModels, name));
  return out;
}

function logits(dir: string, params: Params, adapter: Params | undefined, rows: EncodedExample[], interventions?: (m: tf.Tensor2D) => import('../../src/core/model/forward').Intervention[]): Float32Array {
  const c = readHfModelConfig(dir).config;
  return tf.tidy(() => {
    const b = textBatch(rows);
    const mask = tf.tensor2d(b.mask, [b.batch, b.seqLen]);
    return forward(c, params, tf.tensor2d(b.tokens, [b.batch, b.seqLen], 'int32'), { adapter, interventions: interventions?.(mask) }).logits.dataSync() as Float32Array;
  });
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('text fine-tunes on every architecture', () => {
  it('a fresh LoRA (B = 0) on every linear module and a zero steering vector give the base model', () => {
    const folders = modelFolders();
    expect(folders.length).toBeGreaterThanOrEqual(HAVE_NUMPY ? 8 : 1);
    for (const dir of folders) {
      const model = readHfModelConfig(dir);
      const { live } = loadHfLiveModel(dir);
      const rows = randomRows(model.config.dVocab, 4, 1);
      const base = logits(dir, live.params, undefined, rows);
      const modules = [...new Set(model.architecture.linearModules(model.config).map((m) => m.name))];
      const spec = resolvePeftSpec(model, { targetModules: modules });
      const lora = createModuleLora(model, spec, 0);
      const adapter = tf.tidy(() => lora.adapter());
      expect(Object.keys(adapter).length, dir).toBeGreaterThan(0);
      expect(maxDiff(logits(dir, live.params, adapter, rows), base), dir).toBe(0);
      const steer = buildTextTrainee(model, live.params, 'steer', { steer: { layer: 0, positions: 'all' }, seed: 0, vector: new Float32Array(model.config.dModel) });
      expect(maxDiff(logits(dir, live.params, undefined, rows, steer.adaptation().interventions), base), dir).toBe(0);
      // A non-zero B moves the logits: the adapter is really read.
      lora.modules[0].B.assign(tf.onesLike(lora.modules[0].B));
      const moved = tf.tidy(() => logits(dir, live.params, lora.adapter(), rows));
      expect(maxDiff(moved, base), dir).toBeGreaterThan(1e-4);
      Object.values(adapter).forEach((t) => t.dispose());
      lora.dispose();
      steer.dispose();
      live.dispose();
    }
  });

  it('gradients reach only the adapter or the vector; the base weights are never changed', () => {
    for (const dir of modelFolders()) {
      const model = readHfModelConfig(dir);
      const { live } = loadHfLiveModel(dir);
      const before = Object.fromEntries(Object.entries(live.params).map(([k, t]) => [k, t.dataSync().slice()]));
      const rows = randomRows(model.config.dVocab, 4, 2);
      for (const method of ['lora', 'steer'] as const) {
        const t = buildTextTrainee(model, live.params, method, { peft: resolvePeftSpec(model), steer: { layer: model.config.nLayers - 1, positions: 'completion' }, seed: 1 });
        const registered = Object.keys(tf.engine().registeredVariables);
        expect(registered.sort(), `${dir} ${method}`).toEqual(t.variables.map((v) => v.name).sort());
        const { grads } = tf.variableGrads(() => completionLoss(model.config, t.adaptation(), textBatch(rows)), t.variables);
        const norms = t.variables.map((v) => tf.tidy(() => grads[v.name].norm().dataSync()[0]));
        // LoRA with B = 0: dL/dB ≠ 0 (dL/dA is 0 until B moves, as in PEFT); a vector's gradient is non-zero.
        expect(Math.max(...norms), `${dir} ${method}`).toBeGreaterThan(0);
        Object.values(grads).forEach((g) => g.dispose());
        t.dispose();
      }
      for (const [k, t] of Object.entries(live.params)) expect(maxDiff(t.dataSync() as Float32Array, before[k] as Float32Array), `${dir} ${k}`).toBe(0);
      live.dispose();
    }
  });
});

describe('PEFT adapter export', () => {
  it('a trained module LoRA written as a PEFT folder loads back to the same logits', () => {
    for (const dir of modelFolders()) {
      const model = readHfModelConfig(dir);
      const { live } = loadHfLiveModel(dir);
      const modules = [...new Set(model.architecture.linearModules(model.config).map((m) => m.name.slice(m.name.lastIndexOf('.') + 1)))];
      const spec = resolvePeftSpec(model, { r: 3, alpha: 5, targetModules: modules.slice(0, 2), layers: [model.config.nLayers - 1] });
      const lora = createModuleLora(model, spec, 4);
      const rng = new Rng(9);
      for (const m of lora.modules) m.B.assign(tf.tensor2d(Float32Array.from({ length: m.B.size }, () => rng.normal() * 0.3), m.B.shape as [number, number]));
      const rows = randomRows(model.config.dVocab, 3, 5);
      const inMemory = tf.tidy(() => logits(dir, live.params, lora.adapter(), rows));
      const out = path.join(tmp, `adapter-${path.basename(dir)}`);
      writePeftAdapter(out, model, spec, lora.weights());
      const loaded = loadPeftAdapter(out, model);
      const params = Object.fromEntries(Object.entries(loaded.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape)]));
      const back = logits(dir, live.params, params, rows);
      const scale = Math.max(...inMemory.map(Math.abs));
      expect(maxDiff(back, inMemory) / scale, dir).toBeLessThan(1e-5);
      Object.values(params).forEach((t) => t.dispose());
      lora.dispose();
      live.dispose();
    }
  });
});

describe('runTextFinetune', () => {
  it('trains a LoRA into a run folder with a PEFT adapter, a curve and the data; the adapter reproduces the final metrics', async () => {
    const modelHash = hashDir(gpt2);
    const out = path.join(tmp, 'runs', 'lora');
    const r = await runTextFinetune({
      model: gpt2,
      data: path.join(tmp, 'letters'),
      method: 'lora',
      peft: { r: 4, targetModules: ['c_attn', 'c_proj'] },
      steps: 40,
      batchSize: 8,
      microBatch: 3,
      lr: 1e-2,
      weightDecay: 0,
      seed: 0,
      logEvery: 10,
      evalSamples: 10,
      outDir: out,
      backend,
    });
    expect(r.status).toBe('completed');
    expect(hashDir(gpt2)).toBe(modelHash);
    const m = readManifest(out);
    expect(m.status).toBe('completed');
    expect(m.finetune).toMatchObject({ baseKind: 'model', method: 'lora', weights: 'adapter', data: { train: 'data/train.jsonl', eval: 'data/eval.jsonl', sideEffects: 'data/side_effects.jsonl' } });
    expect(path.resolve(out, m.finetune?.base as string)).toBe(path.resolve(gpt2));
    const curve = readMetrics(out);
    expect(curve.map((l) => l.step)).toEqual([1, 10, 20, 30, 40]);
    expect(curve[curve.length - 1].loss).toBeLessThan(curve[0].loss);
    expect(Object.keys(curve[0].metrics)).toEqual(expect.arrayContaining(['heldout_letter_acc', 'side_letter_acc', 'heldout_acc', 'side_effect_acc']));
    // The saved adapter, loaded the way any PEFT adapter is, gives the run's final numbers exactly.
    const model = readHfModelConfig(gpt2);
    const adapter = loadPeftAdapter(path.join(out, 'adapter'), model);
    expect(adapter).toMatchObject({ r: 4, alpha: 8, layers: [0, 1] });
    const data = encodeDataset(loadTokenizer(gpt2), model.config, readDataset(path.join(out, 'data')));
    const { live } = loadHfLiveModel(gpt2);
    const params = Object.fromEntries(Object.entries(adapter.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape)]));
    const again = tf.tidy(() => withHeadlines(evaluateText(model.config, { params: live.params, adapter: params }, [...data.eval, ...data.sideEffects]), data));
    for (const [k, v] of Object.entries(m.finalMetrics ?? {})) expect(again[k], k).toBeCloseTo(v, 5);
    Object.values(params).forEach((t) => t.dispose());
    live.dispose();
  });

  it('a LoRA run of a model folder analyses as the model with its adapter', () => {
    const out = path.join(tmp, 'runs', 'lora');
    const lens = (dir: string, adapter?: string): { answer?: unknown; rows?: unknown } =>
      analyzeRequest(dir, { id: 'x', kind: 'logit-lens', prompt: 'next k is', topK: 3 } as Parameters<typeof analyzeRequest>[1], adapter) as { answer?: unknown; rows?: unknown };
    expect(lens(out)).toEqual(lens(gpt2, path.join(out, 'adapter')));
    expect(lens(out)).not.toEqual(lens(gpt2));
  });

  it('trains a steering vector at completion positions into steering.safetensors with its layer and hook', async () => {
    const out = path.join(tmp, 'runs', 'steer');
    const r = await runTextFinetune({
      model: gpt2,
      data: path.join(tmp, 'letters', 'train.jsonl'),
      eval: path.join(tmp, 'letters', 'eval.jsonl'),
      method: 'steer',
      steer: { layer: 1, positions: 'completion' },
      steps: 15,
      batchSize: 8,
      lr: 5e-2,
      weightDecay: 0,
      seed: 1,
      logEvery: 5,
      evalSamples: 5,
      outDir: out,
      backend,
    });
    expect(r.status).toBe('completed');
    const v = readSteeringVector(path.join(out, 'steering.safetensors'));
    expect(v).toMatchObject({ hook: 'blocks.1.hook_resid_post', layer: 1, positions: 'completion' });
    expect(v.vector.length).toBe(32);
    expect(Math.hypot(...v.vector)).toBeGreaterThan(0.05);
    expect(readManifest(out).finetune).toMatchObject({ method: 'steer', steer: { layer: 1, positions: 'completion' }, weights: 'steering.safetensors' });
    expect(() => analyzeRequest(out, { id: 'x', kind: 'logit-lens', prompt: 'next k is' } as Parameters<typeof analyzeRequest>[1])).toThrow(/steering-vector fine-tune of a model folder/);
  });

  it('a cancelled fine-tune keeps its last save: run.json says cancelled and the adapter loads', async () => {
    const out = path.join(tmp, 'runs', 'cancelled');
    let polls = 0;
    const r = await runTextFinetune({
      model: gpt2,
      data: path.join(tmp, 'letters'),
      method: 'lora',
      steps: 1000,
      batchSize: 4,
      lr: 1e-2,
      weightDecay: 0,
      seed: 0,
      logEvery: 100,
      evalSamples: 2,
      outDir: out,
      backend,
      shouldCancel: () => ++polls > 3,
    });
    expect(r.status).toBe('cancelled');
    expect(r.steps).toBe(3);
    const m = readManifest(out);
    expect(m).toMatchObject({ status: 'cancelled', step: 3 });
    expect(loadPeftAdapter(path.join(out, 'adapter'), readHfModelConfig(gpt2)).r).toBe(8);
    expect(fs.readdirSync(path.join(out, 'adapter')).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('refuses bad input with a clear message: an unknown target module, a too-long example, a completion of no tokens', async () => {
    const base = { model: gpt2, data: path.join(tmp, 'letters'), steps: 2, batchSize: 2, lr: 1e-3, weightDecay: 0, seed: 0, logEvery: 1, evalSamples: 1, backend };
    await expect(runTextFinetune({ ...base, method: 'lora', peft: { targetModules: ['q_proj'] }, outDir: path.join(tmp, 'runs', 'bad1') })).rejects.toThrow(/q_proj/);
    const long = path.join(tmp, 'long.jsonl');
    writeJsonlExamples(long, [{ prompt: 'x'.repeat(80), completion: ' y' }]);
    await expect(runTextFinetune({ ...base, data: long, method: 'steer', outDir: path.join(tmp, 'runs', 'bad2') })).rejects.toThrow(/long\.jsonl: example 1 is \d+ tokens/);
    expect(fs.existsSync(path.join(tmp, 'runs', 'bad2'))).toBe(false);
  });
});

describe('trainee lifetime', () => {
  it('a LoRA or steering trainee leaves no tensor behind once disposed', () => {
    const model = readHfModelConfig(gpt2);
    const { live } = loadHfLiveModel(gpt2);
    const before = tf.memory().numTensors;
    for (const method of ['lora', 'steer'] as const) buildTextTrainee(model, live.params, method, { peft: resolvePeftSpec(model), steer: { layer: 0, positions: 'all' }, seed: 0 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    live.dispose();
  });
});

describe('autoMicroBatch', () => {
  it('keeps the whole batch for small models and splits a GPT-2-small-sized one at long contexts', async () => {
    const { autoMicroBatch, activationBytesPerSequence } = await import('../../src/core/finetune/textFinetune');
    const small = readHfModelConfig(gpt2).config;
    expect(autoMicroBatch(small, 20, 64)).toBe(64);
    const gpt2Small = { ...small, nLayers: 12, dModel: 768, nHeads: 12, dHead: 64, dMlp: 3072, nCtx: 1024, dVocab: 50257 };
    // Calibrated on the wasm backend: ~220 MB per 16-token sequence, so 4 to a micro-batch of 1 GiB.
    const perSeq = activationBytesPerSequence(gpt2Small, 16);
    expect(perSeq / 2 ** 20).toBeGreaterThan(180);
    expect(perSeq / 2 ** 20).toBeLessThan(260);
    expect(autoMicroBatch(gpt2Small, 16, 16, 2 ** 30)).toBe(4);
    // Never below one sequence, however long.
    expect(autoMicroBatch(gpt2Small, 1024, 16, 2 ** 30)).toBe(1);
  });
});
