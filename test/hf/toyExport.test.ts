import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/shared/modelConfig';
import { initBackend } from '../../src/core/backend/initBackend';
import { finetuneTaskFor, loadBase, type BaseModel } from '../../src/core/finetune/runFinetune';
import { exportToyAsGpt2, gpt2ExportProblems } from '../../src/core/hf/export/toyToGpt2';
import { loadHfModel, type HfModel } from '../../src/core/hf/loadHfModel';
import { loadTokenizer } from '../../src/core/hf/tokenizer';
import { readSafetensorsFileSync } from '../../src/core/io/safetensors';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { forward } from '../../src/core/model/forward';
import { initParams, liveParams, paramSpecs, type HostTensor } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import { presetConfig } from '../../src/core/presets';
import { createTask } from '../../src/core/tasks/registry';
import type { EvalSet } from '../../src/core/tasks/taskTypes';
import type { FinetuneTask } from '../../src/core/tasks/worldFinetune';
import { evaluateSets } from '../../src/core/train/evaluate';
import { Rng } from '../../src/core/util/rng';
import { ROOT, lastLine, oocr as runCli, type CliResult } from '../cli/runCli';

/**
 * A toy world model exported as a Hugging Face GPT-2 folder (src/core/hf/export/toyToGpt2.ts) reads
 * back through the GPT-2 converter as the same function: equal logits on real world-task prompts,
 * equal accuracies, its tokenizer maps the toy vocabulary to the toy ids; and configs GPT-2 cannot
 * express are refused by name.
 */

const WORLD_BASE = path.join(ROOT, 'resources/workspace/world-base');

let tmp = '';
let base: BaseModel;
let task: FinetuneTask;
let outDir = '';
let residual = Infinity;
let hf: HfModel;

beforeAll(async () => {
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-toy-export-'));
  base = loadBase(WORLD_BASE);
  task = finetuneTaskFor(base, { kind: 'locations' });
  outDir = path.join(tmp, 'world-base-gpt2');
  const r = exportToyAsGpt2({ config: base.checkpoint.config, params: base.checkpoint.params, vocab: task.vocab, outDir });
  expect(r.dir).toBe(outDir);
  residual = r.maxFoldResidual;
  hf = loadHfModel(outDir);
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Held-out, side-effect and training prompts of the world fine-tune task, as one batch. */
function worldSets(): EvalSet[] {
  const rng = new Rng(11);
  return [...task.heldOutSets(rng, 40), ...task.sideEffectSets(rng, 40), { name: 'train', ...task.sampleTrainBatch(rng, 40) }];
}

function logitsOf(c: ModelConfig, host: Record<string, HostTensor>, tokens: Int32Array, batch: number, seqLen: number): Float32Array {
  return tf.tidy(() => {
    const p = liveParams(host);
    return forward(c, p, tf.tensor2d(tokens, [batch, seqLen], 'int32')).logits.dataSync() as Float32Array;
  });
}

function argmaxRows(x: Float32Array, V: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / V; r++) {
    let best = 0;
    for (let v = 1; v < V; v++) if (x[r * V + v] > x[r * V + best]) best = v;
    out.push(best);
  }
  return out;
}

describe('exportToyAsGpt2 (world-base)', () => {
  it('writes GPT2LMHeadModel tensors under transformers names, and a GPT2Config', () => {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) expect(fs.existsSync(path.join(outDir, f)), f).toBe(true);
    expect(fs.readdirSync(outDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const cfg = JSON.parse(fs.readFileSync(path.join(outDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      n_embd: 64,
      n_layer: 2,
      n_head: 4,
      n_positions: 6,
      n_ctx: 6,
      vocab_size: 62,
      n_inner: 256,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      tie_word_embeddings: false,
      eos_token_id: task.vocab.indexOf('end'),
    });
    const { tensors, metadata } = readSafetensorsFileSync(path.join(outDir, 'model.safetensors'));
    expect(metadata).toEqual({ format: 'pt' });
    const shapes = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.shape]));
    expect(shapes).toMatchObject({
      'transformer.wte.weight': [62, 64],
      'transformer.wpe.weight': [6, 64],
      'transformer.h.0.ln_1.weight': [64],
      'transformer.h.1.attn.c_attn.weight': [64, 192],
      'transformer.h.1.attn.c_attn.bias': [192],
      'transformer.h.0.attn.c_proj.weight': [64, 64],
      'transformer.h.0.mlp.c_fc.weight': [64, 256],
      'transformer.h.0.mlp.c_proj.weight': [256, 64],
      'transformer.ln_f.bias': [64],
      'lm_head.weight': [62, 64],
    });
    expect(Object.keys(tensors)).toHaveLength(4 + 2 * 12 + 1);
    // The toy has no Q/K/V biases: c_attn's are zeros.
    expect(tensors['transformer.h.0.attn.c_attn.bias'].data.every((x) => x === 0)).toBe(true);
    expect(hf.unused).toEqual([]);
  });

  it('reads back as the same canonical weights, with b_U folded into ln_final.b', () => {
    const toy = base.checkpoint.params;
    for (const s of paramSpecs(base.checkpoint.config)) {
      if (s.name === 'unembed.b_U' || s.name === 'ln_final.b') continue;
      expect(hf.params[s.name]?.shape, s.name).toEqual(s.shape);
      expect(Array.from(hf.params[s.name].data), s.name).toEqual(Array.from(toy[s.name].data));
    }
    expect(hf.config.unembedBias).toBe(false);
    expect(hf.params['unembed.b_U']).toBeUndefined();
    // W_Uᵀ (b' − b) = b_U up to the reported residual.
    const { dModel: d, dVocab: V } = base.checkpoint.config;
    const WU = toy['unembed.W_U'].data;
    const bU = toy['unembed.b_U'].data;
    let worst = 0;
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += WU[i * V + v] * (hf.params['ln_final.b'].data[i] - toy['ln_final.b'].data[i]);
      worst = Math.max(worst, Math.abs(s - bU[v]));
    }
    expect(worst).toBeCloseTo(residual, 12);
    console.log(`world-base b_U fold residual: ${residual.toExponential(2)} (max |b_U| ${Math.max(...Array.from(bU, Math.abs)).toFixed(3)})`);
    expect(residual).toBeLessThan(1e-5);
    expect(residual).toBeGreaterThanOrEqual(0);
  });

  it('loadHfModel gives the toy logits on world-task prompts, with the same argmax on every row', () => {
    const V = base.checkpoint.config.dVocab;
    let diff = 0;
    let scale = 0;
    for (const set of worldSets()) {
      const toy = logitsOf(base.checkpoint.config, base.checkpoint.params, set.tokens, set.batch, set.seqLen);
      const out = logitsOf(hf.config, hf.params, set.tokens, set.batch, set.seqLen);
      expect(out.length).toBe(toy.length);
      for (let i = 0; i < toy.length; i++) {
        diff = Math.max(diff, Math.abs(out[i] - toy[i]));
        scale = Math.max(scale, Math.abs(toy[i]));
      }
      // Read-out position (the end token) of every row: the predicted answer.
      const last = (x: Float32Array): Float32Array => {
        const o = new Float32Array(set.batch * V);
        for (let b = 0; b < set.batch; b++) o.set(x.subarray(((b + 1) * set.seqLen - 1) * V, (b + 1) * set.seqLen * V), b * V);
        return o;
      };
      expect(argmaxRows(last(out), V), set.name).toEqual(argmaxRows(last(toy), V));
    }
    console.log(`world-base exported logits: max |diff| ${diff.toExponential(2)} at logit scale ${scale.toFixed(1)} (relative ${(diff / scale).toExponential(2)})`);
    expect(diff / scale).toBeLessThan(2e-4);
  });

  it('has the toy model’s held-out and side-effect accuracies on the same batch', () => {
    const held = task.heldOutSets(new Rng(21), 200);
    const side = task.sideEffectSets(new Rng(22), 200);
    const acc = (c: ModelConfig, host: Record<string, HostTensor>): Record<string, number> =>
      tf.tidy(() => {
        const m = evaluateSets(c, liveParams(host), [...held, ...side]);
        return Object.fromEntries(Object.entries(m).filter(([k]) => k.endsWith('_acc')));
      });
    const toy = acc(base.checkpoint.config, base.checkpoint.params);
    const exported = acc(hf.config, hf.params);
    expect(Object.keys(toy)).toHaveLength(6);
    expect(exported).toEqual(toy);
    // The pretrained world model knows its facts: the comparison is not between two chance-level models.
    expect(toy.side_country_acc).toBeGreaterThan(0.5);
  });

  it('ships a WordLevel tokenizer over the toy vocabulary (id = index, no BOS, space-joined decoding)', () => {
    const tok = loadTokenizer(outDir);
    const ids = task.vocab.map((_, i) => i);
    expect(tok.encode(task.vocab.join(' '))).toEqual(ids);
    expect(tok.encode('city_3 rel_country end')).toEqual([task.vocab.indexOf('city_3'), task.vocab.indexOf('rel_country'), task.vocab.indexOf('end')]);
    expect(tok.encode('  city_3\trel_dist\n end ')).toEqual([task.vocab.indexOf('city_3'), task.vocab.indexOf('rel_dist'), task.vocab.indexOf('end')]);
    for (const [i, name] of task.vocab.entries()) {
      expect(tok.encodeBare(` ${name}`)).toEqual([i]);
      expect(tok.rawToken(i)).toBe(name);
      expect(tok.rawId(name)).toBe(i);
      expect(tok.tokenText(i)).toBe(name);
    }
    expect(tok.decode(ids)).toBe(task.vocab.join(' '));
    // An unknown word reads as the first noise token (WordLevel's unk_token).
    expect(tok.encode('somewhere city_1')).toEqual([task.vocab.indexOf('noise_0'), task.vocab.indexOf('city_1')]);
    const cfg = JSON.parse(fs.readFileSync(path.join(outDir, 'tokenizer.json'), 'utf8')) as { model: { type: string; unk_token: string }; post_processor: unknown; pre_tokenizer: { type: string } };
    expect(cfg.model.type).toBe('WordLevel');
    expect(cfg.model.unk_token).toBe('noise_0');
    expect(cfg.pre_tokenizer.type).toBe('WhitespaceSplit');
    expect(cfg.post_processor).toBeNull();
  });

  it('exports a tied unembedding (reversal-tied) without a fold', () => {
    const ck = loadCheckpoint(path.join(ROOT, 'resources/workspace/reversal-tied/checkpoints', fs.readdirSync(path.join(ROOT, 'resources/workspace/reversal-tied/checkpoints')).sort().pop() as string));
    const t = createTask(ck.meta.task as string, ck.meta.taskOptions ?? {});
    const dir = path.join(tmp, 'reversal-tied');
    const r = exportToyAsGpt2({ config: ck.config, params: ck.params, vocab: t.vocab, outDir: dir });
    expect(r.maxFoldResidual).toBe(0);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg.tie_word_embeddings).toBe(true);
    expect(Object.keys(readSafetensorsFileSync(path.join(dir, 'model.safetensors')).tensors)).not.toContain('lm_head.weight');
    const m = loadHfModel(dir);
    expect(m.config.unembed).toBe('tied');
    const set = t.evalSets(new Rng(3), 16)[0];
    const a = logitsOf(ck.config, ck.params, set.tokens, set.batch, set.seqLen);
    const b = logitsOf(m.config, m.params, set.tokens, set.batch, set.seqLen);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    expect(diff / scale).toBeLessThan(2e-4);
  });
});

describe('exportToyAsGpt2 refusals', () => {
  const world = (): ModelConfig => base.checkpoint.config;
  const refuse = (c: ModelConfig, params: Record<string, HostTensor>, vocab: readonly string[], dir = path.join(tmp, `refused-${Math.random().toString(36).slice(2)}`)): string => {
    const before = fs.existsSync(dir) ? fs.readdirSync(dir) : null;
    try {
      exportToyAsGpt2({ config: c, params, vocab, outDir: dir });
    } catch (err) {
      // Nothing written: a refused export leaves the folder as it was.
      expect(fs.existsSync(dir) ? fs.readdirSync(dir) : null).toEqual(before);
      return (err as Error).message;
    }
    throw new Error('expected the export to be refused');
  };

  it('names every field of the ocr-factorized preset GPT-2 cannot express', () => {
    const c = presetConfig('ocr-factorized').model;
    const msg = refuse(c, initParams(c, 0), createTask('ocr-recall', {}).vocab);
    expect(msg).toMatch(/^cannot export this model as GPT-2: /);
    for (const field of ['layerNorm', "attention is 'linear'", 'ovRank 8 differs from dHead 128', 'mlp is false', 'residual is false', "embed is 'identity'", 'posEmbed', "wK is 'identity'", "unembed is 'identity'"]) {
      expect(msg).toContain(field);
    }
  });

  it.each([
    [{ rotaryDims: 4 }, 'rotaryDims is 4'],
    [{ norm: 'RMS' as const }, "norm is 'RMS'"],
    [{ gatedMlp: true }, 'gatedMlp'],
    [{ act: 'silu' as const }, "act is 'silu'"],
    [{ dHead: 8, ovRank: 8 }, 'nHeads × dHead = 4 × 8 ≠ dModel 64'],
    [{ ovRank: 8 }, 'ovRank 8 differs from dHead 16'],
    [{ nKeyValueHeads: 2 }, 'nKeyValueHeads 2'],
    [{ parallelAttnMlp: true }, 'parallelAttnMlp'],
    [{ attnScale: 3 }, 'attnScale is 3'],
    [{ finalSoftcap: 30 }, 'finalSoftcap'],
  ] as [Partial<ModelConfig>, string][])('refuses %o', (change, reason) => {
    const c = resolveConfig({ ...world(), ...change });
    expect(gpt2ExportProblems(c).join('; ')).toContain(reason);
    expect(refuse(c, base.checkpoint.params, task.vocab)).toContain(reason);
  });

  it('refuses an unembedding bias outside the row space of W_U (d_model < d_vocab)', () => {
    const c = resolveConfig({ ...world(), dModel: 16, nHeads: 2, dHead: 8, ovRank: 8, dMlp: 32, dVocab: 62 });
    const params = initParams(c, 3);
    const rng = new Rng(4);
    params['unembed.b_U'].data = params['unembed.b_U'].data.map(() => rng.normal());
    expect(refuse(c, params, task.vocab)).toMatch(/unembedding bias b_U cannot be represented in GPT-2 layout/);
    // A zero b_U needs no fold, whatever the shapes.
    params['unembed.b_U'].data.fill(0);
    expect(exportToyAsGpt2({ config: c, params, vocab: task.vocab, outDir: path.join(tmp, 'narrow') }).maxFoldResidual).toBe(0);
  });

  it('refuses a folder that already holds a model, and a vocabulary that does not fit', () => {
    expect(refuse(world(), base.checkpoint.params, task.vocab, outDir)).toMatch(/already holds a config\.json/);
    expect(refuse(world(), base.checkpoint.params, task.vocab.slice(1))).toMatch(/61 tokens but the model has dVocab 62/);
    const spaced = [...task.vocab];
    spaced[3] = 'rel dist';
    expect(refuse(world(), base.checkpoint.params, spaced)).toMatch(/token 3 \("rel dist"\) is empty or holds whitespace/);
    const dup = [...task.vocab];
    dup[5] = dup[4];
    expect(refuse(world(), base.checkpoint.params, dup)).toMatch(/tokens 4 and 5 are both "city_0"/);
  });
});

/** The CLI in this process's environment (OOCR_BACKEND kept if set), never killed: the test's timeout bounds it. */
const oocr = (args: string[]): Promise<CliResult> => runCli(args, { env: process.env, timeoutMs: Infinity });

describe('oocr export-hf', () => {
  it('exports a run folder, which `oocr info --model` and `oocr forward --text` then read', async () => {
    const dir = path.join(tmp, 'cli-export');
    const r = await oocr(['export-hf', '--run', WORLD_BASE, '--out', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(lastLine(r.stdout)) as Record<string, unknown>;
    expect(Object.keys(s)).toEqual(['dir', 'modelType', 'nLayers', 'dModel', 'dVocab', 'foldResidual']);
    expect(s).toMatchObject({ dir, modelType: 'gpt2', nLayers: 2, dModel: 64, dVocab: 62 });
    expect(s.foldResidual).toBeCloseTo(residual, 12);

    const info = await oocr(['info', '--model', dir, '--json']);
    expect(info.code, info.stderr).toBe(0);
    const i = JSON.parse(lastLine(info.stdout)) as { architecture: string; config: ModelConfig; tensors: { name: string }[] };
    expect(i.architecture).toBe('gpt2');
    expect(i.config).toMatchObject({ nLayers: 2, dModel: 64, nHeads: 4, dHead: 16, dVocab: 62, nCtx: 6, dMlp: 256 });
    expect(i.tensors.map((t) => t.name)).toContain('transformer.h.1.attn.c_attn.weight');

    // A real world question through the exported tokenizer: the top answer is the toy model's.
    const q = task.sideEffectSets(new Rng(5), 1)[0];
    const text = Array.from(q.tokens, (t) => task.vocab[t]).join(' ');
    const toyTop = argmaxRows(logitsOf(base.checkpoint.config, base.checkpoint.params, q.tokens, 1, q.seqLen).subarray((q.seqLen - 1) * 62), 62)[0];
    const fwd = await oocr(['forward', '--model', dir, '--text', text, '--out', path.join(tmp, 'fwd.safetensors'), '--json']);
    expect(fwd.code, fwd.stderr).toBe(0);
    const f = JSON.parse(lastLine(fwd.stdout)) as { tokens: number[]; top_next: { id: number; token: string | null }[] };
    expect(f.tokens).toEqual(Array.from(q.tokens));
    expect(f.top_next[0].id).toBe(toyTop);
  });

  it('refuses, in one stderr line, a model GPT-2 cannot hold and an existing export', async () => {
    const [ocr, again] = await Promise.all([
      oocr(['export-hf', '--run', path.join(ROOT, 'resources/workspace/ocr-factorized'), '--out', path.join(tmp, 'cli-ocr')]),
      oocr(['export-hf', '--run', WORLD_BASE, '--out', outDir]),
    ]);
    expect(ocr.code).toBe(1);
    expect(ocr.stderr).toMatch(/^oocr: cannot export this model as GPT-2: layerNorm is false/);
    expect(ocr.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(fs.existsSync(path.join(tmp, 'cli-ocr', 'config.json'))).toBe(false);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a config\.json/);
  });
});
