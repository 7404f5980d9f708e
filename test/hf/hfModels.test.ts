import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { loadHfModel, type HfModel } from '../../src/core/hf/loadHfModel';
import { loadPeftAdapter } from '../../src/core/hf/peftAdapter';
import { forwardOutputs, type ForwardOutputs } from '../../src/core/hf/runForward';
import { loadCheckpoint, saveCheckpoint } from '../../src/core/model/checkpoint';
import { forward, type Params } from '../../src/core/model/forward';
import { toLiveModel } from '../../src/core/model/liveModel';
import { HAVE_NUMPY, makeModels, readReference, relError, type Reference } from './fixtures/pythonModels';

/** Every case make_models.py writes, with what it exercises. */
const CASES: [string, string][] = [
  ['gpt2', 'F32, transformer. prefix, tied, attn.bias buffers (BOOL) ignored'],
  ['gpt2-untied-f16', 'F16, bare names, untied lm_head, exact gelu'],
  ['neox-bf16-sharded', 'BF16, 2 shards + index, gpt_neox. prefix, rotary_pct 0.25, parallel residual'],
  ['neox-sequential', 'F32, bare names, sequential residual, rotary_pct 0.5'],
  ['llama-sharded', 'F32, 3 shards, model. prefix, GQA 4/2, untied, llama3 rope scaling'],
  ['llama-tied-bf16', 'BF16, bare names, tied, head_dim ≠ d/H, linear rope scaling'],
  ['qwen2-f16', 'F16, q/k/v biases, MQA, tied'],
  ['gemma', 'RMSNorm 1+w, sqrt(d) embedding scale, GeGLU, MQA, head_dim 16'],
  ['gemma2', 'post norms, query_pre_attn_scalar, attention and final soft-capping, sliding window'],
  ['gemma3-text-bf16', 'BF16, q/k norms, local/global rotary bases, linear scaling, sliding pattern'],
  ['gemma3-multimodal', 'model_type gemma3 via text_config, language_model.model. prefix, vision tower ignored'],
];

const TOLERANCE = 1e-3;
const errors: Record<string, number> = {};
let dir = '';

beforeAll(async () => {
  // Whichever backend loads here; the comparison is backend-independent.
  await initBackend();
  if (HAVE_NUMPY) dir = makeModels();
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (Object.keys(errors).length) console.log(`max relative error vs float64 numpy:\n${Object.entries(errors).map(([k, v]) => `  ${k.padEnd(22)} ${v.toExponential(2)}`).join('\n')}`);
});

/** Loads a folder, runs the reference tokens (optionally adapted) and checks no tensor is left behind. */
function run(model: HfModel, ref: Reference, adapter?: Record<string, { shape: number[]; data: Float32Array }>): ForwardOutputs {
  const before = tf.memory().numTensors;
  const live = toLiveModel(model.config, model.params, { trainable: false });
  const ad: Params | undefined = adapter ? Object.fromEntries(Object.entries(adapter).map(([k, v]) => [k, tf.tensor(v.data, v.shape)])) : undefined;
  const out = forwardOutputs(model.config, live.params, ref.tokens, ad);
  live.dispose();
  for (const t of Object.values(ad ?? {})) t.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function worstError(out: ForwardOutputs, ref: Reference): number {
  expect(out.residPost).toHaveLength(ref.resid_post.length);
  return Math.max(relError(out.logits.data, ref.logits.flat()), ...out.residPost.map((r, l) => relError(r.data, ref.resid_post[l].flat())));
}

describe.skipIf(!HAVE_NUMPY)('Hugging Face model folders against an independent float64 numpy forward pass', () => {
  it.each(CASES)('%s (%s): logits and every resid_post within 1e-3', (name) => {
    const folder = path.join(dir, name);
    const model = loadHfModel(folder);
    expect(model.unused).toEqual([]);
    const ref = readReference(folder);
    const err = worstError(run(model, ref), ref);
    errors[name] = err;
    expect(err).toBeLessThanOrEqual(TOLERANCE);
  });

  it.each([
    ['gpt2', 'gpt2-lora'],
    ['llama-sharded', 'llama-sharded-lora'],
  ])('%s + PEFT adapter %s: adapted forward matches W + scale·BA; without it, the base model', (base, adapterDir) => {
    const model = loadHfModel(path.join(dir, base));
    const adapter = loadPeftAdapter(path.join(dir, adapterDir), model);
    const ref = readReference(path.join(dir, adapterDir));
    const err = worstError(run(model, ref, adapter.tensors), ref);
    errors[adapterDir] = err;
    expect(err).toBeLessThanOrEqual(TOLERANCE);
    // The adapter changes the output, and leaving it out is exactly the base model.
    const baseRef = readReference(path.join(dir, base));
    expect(relError(run(model, baseRef).logits.data, ref.logits.flat())).toBeGreaterThan(1e-2);
    expect(worstError(run(model, baseRef), baseRef)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('reads the adapter configs: rsLoRA scale, layers, modules', () => {
    const llama = loadPeftAdapter(path.join(dir, 'llama-sharded-lora'), loadHfModel(path.join(dir, 'llama-sharded')));
    expect(llama.scale).toBeCloseTo(16 / Math.sqrt(2), 10);
    expect(llama.layers).toEqual([1]);
    expect(llama.modules).toContain('model.layers.1.self_attn.v_proj');
    // v_proj of a GQA model writes n_key_value_heads · d_head = 16 columns.
    expect(llama.tensors['blocks.1.attn.W_V.lora_B'].shape).toEqual([2, 16]);
    const gpt2 = loadPeftAdapter(path.join(dir, 'gpt2-lora'), loadHfModel(path.join(dir, 'gpt2')));
    expect(gpt2.scale).toBe(2);
    // The fused c_attn adapter feeds W_Q, W_K and W_V, each its own third of lora_B.
    for (const t of ['W_Q', 'W_K', 'W_V']) expect(gpt2.tensors[`blocks.0.attn.${t}.lora_B`].shape).toEqual([4, 32]);
  });

  it('hooks, caches and readout "last" work on a real architecture (GQA, rotary, sliding window, soft-capping)', () => {
    const model = loadHfModel(path.join(dir, 'gemma2'));
    const live = toLiveModel(model.config, model.params, { trainable: false });
    const before = tf.memory().numTensors;
    const { shapes, full, last } = tf.tidy(() => {
      const tokens = tf.tensor2d([[3, 9, 27, 17, 51, 2, 40]], [1, 7], 'int32');
      const all = forward(model.config, live.params, tokens, { cache: 'all' });
      const pattern = all.cache['blocks.0.attn.hook_pattern'].arraySync() as number[][][][];
      // Layer 0 slides over 3 keys: query 6 sees keys 4..6 only.
      expect(pattern[0][0][6].slice(0, 4)).toEqual([0, 0, 0, 0]);
      expect(pattern[0][0][6].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      return {
        shapes: Object.fromEntries(Object.entries(all.cache).map(([k, v]) => [k, v.shape])),
        full: all.logits.slice([0, 6, 0], [1, 1, -1]).dataSync(),
        last: forward(model.config, live.params, tokens, { readout: 'last' }).logits.dataSync(),
      };
    });
    expect(shapes['blocks.0.attn.hook_q']).toEqual([1, 7, 4, 8]);
    expect(shapes['blocks.0.attn.hook_k']).toEqual([1, 7, 2, 8]);
    expect(shapes['blocks.0.attn.hook_pattern']).toEqual([1, 4, 7, 7]);
    expect(shapes['blocks.2.hook_resid_post']).toEqual([1, 7, 32]);
    expect(shapes['blocks.1.mlp.hook_post']).toEqual([1, 7, 48]);
    expect(relError(last, Array.from(full))).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
    live.dispose();
  });

  it('a converted model saves and reloads as a workbench checkpoint (config with its architecture switches)', () => {
    const model = loadHfModel(path.join(dir, 'llama-sharded'));
    const file = path.join(dir, 'llama.checkpoint.safetensors');
    saveCheckpoint(file, model.config, model.params, { step: 0 });
    const back = loadCheckpoint(file);
    expect(back.config).toEqual(model.config);
    expect(Object.keys(back.params).sort()).toEqual(Object.keys(model.params).sort());
    for (const [name, t] of Object.entries(model.params)) expect(back.params[name].data).toEqual(t.data);
  });

  describe('broken folders give one clear error naming the file and tensor', () => {
    const cases: [string, () => unknown, RegExp][] = [
      ['missing tensor', () => loadHfModel(path.join(dir, 'bad-missing')), /bad-missing\/model\.safetensors: missing tensor "transformer\.h\.1\.mlp\.c_fc\.weight" \[32, 128\]/],
      ['wrong shape', () => loadHfModel(path.join(dir, 'bad-shape')), /bad-shape\/model\.safetensors: tensor "transformer\.h\.0\.attn\.c_proj\.weight" has shape \[32, 31\] but .* needs \[32, 32\]/],
      ['unknown model_type', () => loadHfModel(path.join(dir, 'bad-type')), /bad-type\/config\.json: model_type "mamba" is not supported; supported: gpt2, gpt_neox, llama, qwen2, gemma, gemma2, gemma3_text, gemma3/],
      ['corrupt shard', () => loadHfModel(path.join(dir, 'bad-shard')), /bad-shard\/model-00002-of-00002\.safetensors: truncated: tensor "gpt_neox\.layers\.1\.[a-z_.]+" needs bytes/],
      ['no folder', () => loadHfModel(path.join(dir, 'nope')), /nope\/config\.json: file not found/],
      [
        'adapter for another architecture',
        () => loadPeftAdapter(path.join(dir, 'llama-sharded-lora'), loadHfModel(path.join(dir, 'gpt2'))),
        /adapter_model\.safetensors: module "model\.layers\.1\.[a-z_.]+" is not a linear layer of this gpt2 model/,
      ],
      [
        'adapter for a wider model',
        () => loadPeftAdapter(path.join(dir, 'bad-lora-wide'), loadHfModel(path.join(dir, 'gpt2'))),
        /module "transformer\.h\.0\.attn\.c_attn": lora_A is \[4,48\] and lora_B is \[144,4\] but this model's attn\.c_attn \(32 → 96\)/,
      ],
    ];
    it.each(cases)('%s', (_what, load, message) => {
      expect(load).toThrow(message);
    });
  });
});
