import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttentionAnalysis, LoraDeltasAnalysis, ModelSummary } from '../../src/shared/api';
import { analysisCsv } from '../../src/shared/analyses';
import { initBackend } from '../../src/core/backend/initBackend';
import { runAnalysis } from '../../src/core/analyses';
import { clearModelCache } from '../../src/core/analyses/modelCache';
import { modelTarget } from '../../src/core/analyses/target';
import { sampleTokenIndices } from '../../src/core/analysis/loraDeltas';
import { MODELS_FILE } from '../../src/core/io/modelStore';
import { ApiArgumentError, createWorkbench, type Workbench } from '../../src/core/workbench';
import { writeByteBpeTokenizer } from './fixtures/byteBpe';
import { HAVE_NUMPY, makeModels, readReference } from './fixtures/pythonModels';

/**
 * Hugging Face model folders as members of a workspace: listModels (from config.json and safetensors
 * headers), openModel (registering a folder and an adapter by path, refusing what is not one), ids
 * every analysis accepts, and the lora-deltas analysis against the float64 numpy reference outputs
 * of make_models.py (base and adapted resid_post on the same tokens).
 */

let fixtures = '';
let tmp = '';
let ws = '';
let wb: Workbench;

const copy = (name: string, to = name): void => fs.cpSync(path.join(fixtures, name), path.join(ws, to), { recursive: true });

beforeAll(async () => {
  await initBackend();
  if (!HAVE_NUMPY) return;
  fixtures = makeModels();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-wsmodels-'));
  ws = path.join(tmp, 'ws');
  fs.mkdirSync(ws);
  copy('gpt2');
  copy('gpt2-lora');
  copy('gpt2', 'gpt2-text');
  writeByteBpeTokenizer(path.join(ws, 'gpt2-text'));
  copy('bad-type', 'group/bad-type');
  wb = createWorkbench({ workspaceDir: ws });
}, 120_000);

afterAll(() => {
  wb?.dispose();
  clearModelCache();
  for (const d of [fixtures, tmp]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

const list = async (): Promise<ModelSummary[]> => (await wb.call('listModels', undefined)) as ModelSummary[];
const callError = async (method: string, args: unknown): Promise<Error> => {
  try {
    await wb.call(method, args);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${method} did not fail`);
};

describe.skipIf(!HAVE_NUMPY)('model folders in a workspace', () => {
  it('listModels reads config.json and headers: shape, parameters, dtype, size, adapters; a broken folder is listed with its error', async () => {
    const models = await list();
    expect(models.map((m) => m.id)).toEqual(['gpt2', 'gpt2-text', 'group/bad-type']);
    const g = models[0];
    expect(g).toMatchObject({ source: 'workspace', architecture: 'gpt2', nLayers: 2, dModel: 32, nHeads: 4, dVocab: 300, nCtx: 16, dtype: 'F32', tokenizer: false });
    // wte 300·32 + wpe 16·32 + 2 blocks + ln_f (the attn.bias buffers do not count).
    const block = 2 * 32 + 32 * 96 + 96 + 32 * 32 + 32 + 2 * 32 + 32 * 128 + 128 + 128 * 32 + 32;
    expect(g.nParams).toBe(300 * 32 + 16 * 32 + 2 * block + 2 * 32);
    expect(g.sizeBytes).toBe(fs.statSync(path.join(ws, 'gpt2', 'model.safetensors')).size);
    // gpt2-lora lies beside both GPT-2 copies and fits both.
    expect(g.adapters).toEqual([{ id: 'gpt2-lora', path: path.join(ws, 'gpt2-lora'), r: 4, alpha: 8, targets: ['c_attn', 'c_fc', 'c_proj'], layers: [0, 1] }]);
    expect(models[1].tokenizer).toBe(true);
    expect(models[2].error).toMatch(/model_type "mamba" is not supported/);
    expect(models[2].adapters).toEqual([]);
  });

  it('openModel registers a folder (and its adapter) by path under a unique id; analyses accept it', async () => {
    const llama = path.join(fixtures, 'llama-sharded');
    const s = (await wb.call('openModel', { path: llama, adapter: path.join(fixtures, 'llama-sharded-lora') })) as ModelSummary;
    expect(s).toMatchObject({ id: 'models/llama-sharded', source: 'registered', architecture: 'llama', nLayers: 2, path: llama });
    // The adapter sits beside it too, so it is listed once, as a found one.
    expect(s.adapters.map((a) => [a.id, a.r, a.layers])).toEqual([['adapters/llama-sharded-lora', 2, [1]]]);
    const reg = JSON.parse(fs.readFileSync(path.join(ws, MODELS_FILE), 'utf8'));
    expect(reg.models).toEqual([{ id: 'models/llama-sharded', path: llama }]);
    // Opening it again keeps its id; the same folder name elsewhere gets another.
    expect(((await wb.call('openModel', { path: llama })) as ModelSummary).id).toBe('models/llama-sharded');
    const other = path.join(tmp, 'elsewhere', 'llama-sharded');
    fs.cpSync(llama, other, { recursive: true });
    expect(((await wb.call('openModel', { path: other })) as ModelSummary).id).toBe('models/llama-sharded-2');
    expect((await list()).map((m) => m.id)).toEqual(['gpt2', 'gpt2-text', 'group/bad-type', 'models/llama-sharded', 'models/llama-sharded-2']);

    const a = (await wb.call('analyze', { kind: 'attention', id: 'models/llama-sharded', prompt: '#1 #2 #3' })) as AttentionAnalysis;
    expect(a).toMatchObject({ kind: 'attention', id: 'models/llama-sharded', step: 0, tokens: ['#1', '#2', '#3'] });
    expect(a.layers).toHaveLength(2);
    const adapted = (await wb.call('analyze', { kind: 'attention', id: 'models/llama-sharded', adapter: 'adapters/llama-sharded-lora', prompt: '#1 #2 #3' })) as AttentionAnalysis;
    expect(adapted.adapter).toBe('adapters/llama-sharded-lora');
  }, 60_000);

  it('openModel refuses, as the caller’s mistake, what is not a supported model or an adapter for it', async () => {
    const cases: [unknown, RegExp][] = [
      [{ path: 'relative/gpt2' }, /absolute folder path/],
      [{ path: path.join(tmp, 'nope') }, /no such folder/],
      [{ path: path.join(fixtures, 'bad-type') }, /not a supported Hugging Face model folder: .*mamba/],
      [{ path: path.join(fixtures, 'bad-shard') }, /not a supported Hugging Face model folder: .*model-00002-of-00002\.safetensors/],
      [{ path: path.join(fixtures, 'gpt2-lora') }, /PEFT adapter, not a model/],
      [{ path: path.join(fixtures, 'gpt2'), adapter: path.join(fixtures, 'gpt2') }, /not a PEFT adapter folder/],
      [{ path: path.join(fixtures, 'gpt2'), adapter: path.join(fixtures, 'bad-lora-wide') }, /not a PEFT LoRA adapter for .*lora_A is \[4,48\]/],
      [{ path: path.join(fixtures, 'gpt2'), extra: 1 }, /invalid arguments/],
    ];
    for (const [args, msg] of cases) {
      const err = await callError('openModel', args);
      expect(err, JSON.stringify(args)).toBeInstanceOf(ApiArgumentError);
      expect(err.message).toMatch(msg);
    }
    // Nothing was registered by the refusals.
    const reg = JSON.parse(fs.readFileSync(path.join(ws, MODELS_FILE), 'utf8'));
    expect(reg.models.map((m: { id: string }) => m.id)).toEqual(['models/llama-sharded', 'models/llama-sharded-2']);
    expect(reg.adapters).toEqual([]);
    const unknown = await callError('analyze', { kind: 'attention', id: 'gpt2', adapter: 'nope' });
    expect(unknown).toBeInstanceOf(ApiArgumentError);
  });

  it('a model with a tokenizer reads typed text; token labels show spaces', async () => {
    const a = (await wb.call('analyze', { kind: 'attention', id: 'gpt2-text', prompt: 'the cat' })) as AttentionAnalysis;
    expect(a.tokens).toEqual(['t', 'he', '·cat']);
  });
});

describe.skipIf(!HAVE_NUMPY)('lora-deltas', () => {
  /** resid_post(adapted) − resid_post(base) at `layer` from the numpy float64 references. */
  function referenceDeltas(layer: number): { ids: number[]; rows: number[][] } {
    const base = readReference(path.join(fixtures, 'gpt2'));
    const lora = readReference(path.join(fixtures, 'gpt2-lora'));
    expect(lora.tokens).toEqual(base.tokens);
    return { ids: base.tokens, rows: base.resid_post[layer].map((r, t) => r.map((v, j) => lora.resid_post[layer][t][j] - v)) };
  }
  const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);
  const len = (a: number[]): number => Math.sqrt(dot(a, a));

  it('matches the numpy reference: per-token norms, mean |cos|, PC1 share and the natural vector', async () => {
    const { ids, rows } = referenceDeltas(1);
    const text = ids.map((t) => `#${t}`).join(' ');
    const r = (await wb.call('analyze', { kind: 'lora-deltas', id: 'gpt2', adapter: 'gpt2-lora', texts: [text, text.split(' ').slice(0, 4).join(' ')] })) as LoraDeltasAnalysis;
    expect(r).toMatchObject({ kind: 'lora-deltas', id: 'gpt2', adapter: 'gpt2-lora', step: 0, layer: 1, hook: 'blocks.1.hook_resid_post', adapterLayers: [0, 1] });
    expect(r.tokens).toHaveLength(7 + 4);
    expect(r.tokens.slice(7).map((t) => [t.text, t.position])).toEqual([0, 1, 2, 3].map((p) => [1, p]));
    const all = [...rows, ...rows.slice(0, 4)];
    const scale = Math.max(...all.map(len));
    all.forEach((row, i) => expect(Math.abs(r.tokens[i].norm - len(row)) / scale).toBeLessThan(1e-3));
    let sum = 0;
    let count = 0;
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) {
      sum += Math.abs(dot(all[i], all[j]) / (len(all[i]) * len(all[j])));
      count++;
    }
    expect(r.summary.meanAbsCos).toBeCloseTo(sum / count, 3);
    // PC1 of the uncentred second moment by power iteration.
    const d = all[0].length;
    let v = Array.from({ length: d }, (_, i) => 1 + i / d);
    const M = (x: number[]): number[] => {
      const out = new Array<number>(d).fill(0);
      for (const row of all) {
        const p = dot(row, x);
        row.forEach((y, j) => (out[j] += p * y));
      }
      return out;
    };
    for (let k = 0; k < 500; k++) v = M(v).map((x, _, a) => x / len(a));
    const lambda = dot(v, M(v));
    const trace = all.reduce((s, row) => s + dot(row, row), 0);
    expect(r.summary.pc1VarRatio).toBeCloseTo(lambda / trace, 3);
    const meanNorm = all.reduce((s, row) => s + len(row), 0) / all.length;
    expect(r.naturalVectorNorm).toBeCloseTo(meanNorm, 3);
    const mean = new Array<number>(d).fill(0);
    all.forEach((row) => row.forEach((y, j) => (mean[j] += y / all.length)));
    // Sign-aligned with the mean delta, along PC1.
    expect(dot(r.summary.naturalVector, mean)).toBeGreaterThan(0);
    expect(Math.abs(dot(r.summary.naturalVector, v)) / r.naturalVectorNorm).toBeCloseTo(1, 3);
    // The display matrix covers every token here (11 ≤ 128), symmetric with a unit diagonal.
    expect(r.cos.index).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(r.cos.values[3][3]).toBe(1);
    expect(r.cos.values[2][5]).toBeCloseTo(r.cos.values[5][2], 12);
    expect(analysisCsv(r).split('\n')[0]).toBe('row,col,row_text,row_position,row_token,col_text,col_position,col_token,abs_cos');
    expect(analysisCsv(r, 'norms').trim().split('\n')).toHaveLength(12);
  }, 60_000);

  it('labels tokens with visible spaces, defaults to the adapter’s last layer, refuses runs, missing adapters and bad layers', async () => {
    const r = (await wb.call('analyze', { kind: 'lora-deltas', id: 'gpt2-text', adapter: 'gpt2-lora', texts: ['the cat', 'a cat'], layer: 0 })) as LoraDeltasAnalysis;
    expect(r.tokens.map((t) => t.token)).toEqual(['t', 'he', '·cat', 'a', '·cat']);
    expect(r.layer).toBe(0);
    for (const [args, msg] of [
      [{ id: 'gpt2', texts: ['#1 #2'] }, /needs an adapter/],
      [{ id: 'gpt2', adapter: 'gpt2-lora', texts: ['#1 #2'], layer: 2 }, /layer 2 does not exist/],
      [{ id: 'gpt2', adapter: 'gpt2-lora', texts: ['#1 #999'] }, /outside the model's vocabulary/],
      [{ id: 'gpt2', adapter: 'gpt2-lora', texts: [] }, /texts/],
    ] as const) {
      const err = await callError('analyze', { kind: 'lora-deltas', ...args });
      expect(err, JSON.stringify(args)).toBeInstanceOf(ApiArgumentError);
      expect(err.message).toMatch(msg);
    }
  }, 60_000);

  it('leaves no tensor behind (the model cache holds the weights between calls)', () => {
    const target = modelTarget(path.join(ws, 'gpt2'), 'gpt2', path.join(ws, 'gpt2-lora'));
    const req = { kind: 'lora-deltas' as const, id: 'gpt2', texts: ['#1 #2 #3', '#4 #5'], sample: 128 };
    runAnalysis(target, req);
    const before = tf.memory().numTensors;
    runAnalysis(target, req);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples every text and every position range for the displayed matrix', () => {
    expect(sampleTokenIndices([3, 2], 10)).toEqual([0, 1, 2, 3, 4]);
    // 128 texts of 8 tokens, 128 samples: one per text, and the positions vary.
    const idx = sampleTokenIndices(new Array(128).fill(8), 128);
    expect(idx).toHaveLength(128);
    expect(new Set(idx.map((i) => Math.floor(i / 8))).size).toBe(128);
    expect(new Set(idx.map((i) => i % 8)).size).toBe(8);
    const uneven = sampleTokenIndices([100, 4, 50], 20);
    expect(uneven).toHaveLength(20);
    expect(uneven.every((v, i) => i === 0 || v > uneven[i - 1])).toBe(true);
    expect(uneven.some((i) => i >= 100 && i < 104)).toBe(true);
  });
});
