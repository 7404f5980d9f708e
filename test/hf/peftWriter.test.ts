import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHfModelConfig, type HfModelConfig } from '../../src/core/hf/loadHfModel';
import { checkPeftAdapter, loadPeftAdapter } from '../../src/core/hf/peftAdapter';
import { peftModulePath, selectModules, writePeftAdapter, type ModuleLoraWeights, type PeftLoraSpec } from '../../src/core/hf/peftWriter';
import { readSafetensorsFileSync } from '../../src/core/io/safetensors';
import { Rng } from '../../src/core/util/rng';
import { writeTinyGpt2 } from './fixtures/tinyGpt2';
import { HAVE_NUMPY, makeModels } from './fixtures/pythonModels';

/**
 * PEFT LoRA adapters written by src/core/hf/peftWriter.ts: PEFT's keys, layouts and adapter_config.json
 * fields, read back by loadPeftAdapter into exactly the canonical lora_A = A and lora_B = (alpha / r)·B
 * restricted to each matrix's output units, on GPT-2 (Conv1D, fused c_attn), GPT-NeoX (fused,
 * head-interleaved query_key_value), Llama (GQA), Qwen2, Gemma and a multimodal Gemma 3 folder.
 */

let tmp = '';
let gpt2: HfModelConfig;
let pyDir = '';

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-peft-writer-'));
  writeTinyGpt2(path.join(tmp, 'gpt2'));
  gpt2 = readHfModelConfig(path.join(tmp, 'gpt2'));
  if (HAVE_NUMPY) pyDir = makeModels();
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (pyDir) fs.rmSync(pyDir, { recursive: true, force: true });
});

function randomWeights(model: HfModelConfig, spec: PeftLoraSpec, seed: number): ModuleLoraWeights[] {
  const rng = new Rng(seed);
  return selectModules(model, spec.targetModules, spec.layers).map(({ layer, m }) => ({
    layer,
    module: m.name,
    inDim: m.inDim,
    outDim: m.outDim,
    A: Float32Array.from({ length: m.inDim * spec.r }, () => rng.normal()),
    B: Float32Array.from({ length: spec.r * m.outDim }, () => rng.normal()),
  }));
}

/** Writes an adapter, reads it back and checks every canonical tensor against A and the scaled B columns. */
function roundTrip(model: HfModelConfig, spec: PeftLoraSpec, name: string, seed = 1): { dir: string; weights: ModuleLoraWeights[] } {
  const dir = path.join(tmp, name);
  const weights = randomWeights(model, spec, seed);
  expect(weights.length).toBeGreaterThan(0);
  writePeftAdapter(dir, model, spec, weights, { baseModelNameOrPath: `tiny/${name}` });
  const ad = loadPeftAdapter(dir, model);
  expect(ad).toMatchObject({ r: spec.r, alpha: spec.alpha, useRslora: false, scale: spec.alpha / spec.r, layers: [...spec.layers].sort((a, b) => a - b), targets: spec.targetModules });
  expect(ad.modules).toEqual(weights.map((w) => peftModulePath(model, w.layer, w.module)).sort());
  const expected = new Set<string>();
  const r = spec.r;
  for (const w of weights) {
    const m = model.architecture.linearModules(model.config).find((x) => x.name === w.module);
    if (!m) throw new Error(w.module);
    for (const part of m.parts) {
      const key = `blocks.${w.layer}.${part.target}`;
      expected.add(`${key}.lora_A`).add(`${key}.lora_B`);
      const A = ad.tensors[`${key}.lora_A`];
      const B = ad.tensors[`${key}.lora_B`];
      expect(A.shape, key).toEqual([w.inDim, r]);
      expect(Array.from(A.data)).toEqual(Array.from(w.A));
      const n = part.units.length;
      expect(B.shape, key).toEqual([r, n]);
      const want = new Float32Array(r * n);
      for (let k = 0; k < r; k++) for (let c = 0; c < n; c++) want[k * n + c] = ad.scale * w.B[k * w.outDim + part.units[c]];
      expect(Array.from(B.data), key).toEqual(Array.from(want));
    }
  }
  expect(Object.keys(ad.tensors).sort()).toEqual([...expected].sort());
  // The header-only check agrees.
  expect(checkPeftAdapter(dir, model).modules).toEqual(ad.modules);
  return { dir, weights };
}

describe('writePeftAdapter (GPT-2, Conv1D)', () => {
  const spec: PeftLoraSpec = { r: 3, alpha: 12, targetModules: ['c_attn', 'mlp.c_proj'], layers: [0, 1] };

  it('writes what PEFT saves: nn.Linear-layout lora_A [r, in] / lora_B [out, r] under base_model.model.<path>', () => {
    const { dir, weights } = roundTrip(gpt2, spec, 'gpt2-adapter');
    expect(fs.readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const { tensors, metadata } = readSafetensorsFileSync(path.join(dir, 'adapter_model.safetensors'));
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.shape]))).toEqual({
      'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight': [3, 32],
      'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight': [96, 3],
      'base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight': [3, 128],
      'base_model.model.transformer.h.0.mlp.c_proj.lora_B.weight': [32, 3],
      'base_model.model.transformer.h.1.attn.c_attn.lora_A.weight': [3, 32],
      'base_model.model.transformer.h.1.attn.c_attn.lora_B.weight': [96, 3],
      'base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight': [3, 128],
      'base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight': [32, 3],
    });
    // lora_A.weight[k, i] = A[i, k]; lora_B.weight[u, k] = B[k, u] (unscaled).
    const w = weights[0];
    const a = tensors['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'].data;
    const b = tensors['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight'].data;
    expect(a[2 * 32 + 5]).toBe(w.A[5 * 3 + 2]);
    expect(b[70 * 3 + 1]).toBe(w.B[1 * 96 + 70]);
  });

  it('writes adapter_config.json as PEFT’s LoraConfig.save_pretrained (sorted keys, fan_in_fan_out for Conv1D)', () => {
    const dir = path.join(tmp, 'gpt2-adapter');
    const text = fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8');
    const cfg = JSON.parse(text) as Record<string, unknown>;
    expect(cfg).toEqual({
      alpha_pattern: {},
      base_model_name_or_path: 'tiny/gpt2-adapter',
      bias: 'none',
      fan_in_fan_out: true,
      inference_mode: true,
      init_lora_weights: true,
      layers_pattern: 'h',
      layers_to_transform: [0, 1],
      lora_alpha: 12,
      lora_dropout: 0,
      modules_to_save: null,
      peft_type: 'LORA',
      r: 3,
      rank_pattern: {},
      revision: null,
      target_modules: ['c_attn', 'mlp.c_proj'],
      task_type: 'CAUSAL_LM',
      use_dora: false,
      use_rslora: false,
    });
    expect(Object.keys(cfg)).toEqual(Object.keys(cfg).sort());
    expect(text.startsWith('{\n  "alpha_pattern"')).toBe(true);
  });

  it('defaults base_model_name_or_path to the model folder and replaces an adapter written before', () => {
    const dir = path.join(tmp, 'gpt2-rewrite');
    const one: PeftLoraSpec = { r: 2, alpha: 4, targetModules: ['c_fc'], layers: [1] };
    writePeftAdapter(dir, gpt2, one, randomWeights(gpt2, one, 3));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8')).base_model_name_or_path).toBe(path.resolve(gpt2.dir));
    const two: PeftLoraSpec = { r: 4, alpha: 4, targetModules: ['attn.c_proj'], layers: [0] };
    writePeftAdapter(dir, gpt2, two, randomWeights(gpt2, two, 4));
    const ad = loadPeftAdapter(dir, gpt2);
    expect(ad.r).toBe(4);
    expect(ad.modules).toEqual(['transformer.h.0.attn.c_proj']);
    expect(fs.readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('refuses weights that do not match the selected modules', () => {
    const one: PeftLoraSpec = { r: 2, alpha: 4, targetModules: ['c_attn'], layers: [0, 1] };
    const w = randomWeights(gpt2, one, 5);
    const dir = path.join(tmp, 'refused');
    expect(() => writePeftAdapter(dir, gpt2, one, w.slice(1))).toThrow(/no LoRA weights for layer 0 attn\.c_attn, which target_modules \["c_attn"\] selects/);
    expect(() => writePeftAdapter(dir, gpt2, { ...one, layers: [1] }, w)).toThrow(/LoRA weights for layer 0 attn\.c_attn are not selected/);
    expect(() => writePeftAdapter(dir, gpt2, { ...one, r: 3 }, w)).toThrow(/rank 3 needs A \[32, 3\] and B \[3, 96\]/);
    expect(() => writePeftAdapter(dir, gpt2, one, [w[0], w[0], w[1]])).toThrow(/given twice/);
    expect(() => writePeftAdapter(dir, gpt2, one, [{ ...w[0], outDim: 32 }, w[1]])).toThrow(/are 32 → 32 but the module is 32 → 96/);
    const nan = { ...w[1], B: w[1].B.map((x, i) => (i === 3 ? NaN : x)) };
    expect(() => writePeftAdapter(dir, gpt2, one, [w[0], nan])).toThrow(/LoRA B of layer 1 attn\.c_attn holds a non-finite value/);
    expect(() => writePeftAdapter(dir, gpt2, { ...one, alpha: 0 }, w)).toThrow(/lora_alpha must be a positive number/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('selectModules (PEFT’s target_modules rule)', () => {
  const names = (sel: ReturnType<typeof selectModules>): string[] => sel.map(({ layer, m }) => `${layer}:${m.name}`);

  it('matches a module equal to an entry or ending in "." + entry, in layer then module order', () => {
    expect(names(selectModules(gpt2, ['c_proj'], [1, 0]))).toEqual(['0:attn.c_proj', '0:mlp.c_proj', '1:attn.c_proj', '1:mlp.c_proj']);
    expect(names(selectModules(gpt2, ['attn.c_proj', 'c_fc'], [1]))).toEqual(['1:attn.c_proj', '1:mlp.c_fc']);
    expect(names(selectModules(gpt2, ['transformer.h.1.attn.c_attn'], [1]))).toEqual(['1:attn.c_attn']);
  });

  it('names unknown entries and lists the adaptable modules', () => {
    expect(() => selectModules(gpt2, ['c_attn', 'q_proj', 'proj'], [0])).toThrow(
      'target_modules "q_proj", "proj" name no linear layer of this gpt2 model\'s blocks; adaptable: attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj (or the last part: c_attn, c_proj, c_fc)',
    );
    expect(() => selectModules(gpt2, ['lm_head'], [0])).toThrow(/"lm_head" names no linear layer/);
    expect(() => selectModules(gpt2, [], [0])).toThrow(/target_modules is empty; adaptable modules of this gpt2 model: attn\.c_attn/);
  });

  it('refuses layers outside the model and entries that select nothing in the chosen layers', () => {
    expect(() => selectModules(gpt2, ['c_attn'], [0, 2, -1])).toThrow('layers_to_transform [2,-1] outside 0..1 of this gpt2 model');
    expect(() => selectModules(gpt2, ['c_attn'], [])).toThrow(/layers_to_transform is empty/);
    expect(() => selectModules(gpt2, ['transformer.h.1.attn.c_attn'], [0])).toThrow('target_modules "transformer.h.1.attn.c_attn" select nothing in layers_to_transform [0]');
  });

  it('peftModulePath uses the stored prefix, and refuses what the model does not have', () => {
    expect(peftModulePath(gpt2, 1, 'mlp.c_fc')).toBe('transformer.h.1.mlp.c_fc');
    expect(() => peftModulePath(gpt2, 2, 'mlp.c_fc')).toThrow(/layer 2 is outside 0\.\.1/);
    expect(() => peftModulePath(gpt2, 0, 'c_fc')).toThrow(/"c_fc" is not a linear layer of a gpt2 block \(adaptable: attn\.c_attn, attn\.c_proj, mlp\.c_fc, mlp\.c_proj\)/);
    // A folder with config.json only: transformers' own prefix.
    const bare = path.join(tmp, 'config-only');
    fs.mkdirSync(bare);
    fs.copyFileSync(path.join(gpt2.dir, 'config.json'), path.join(bare, 'config.json'));
    expect(peftModulePath(readHfModelConfig(bare), 0, 'attn.c_attn')).toBe('transformer.h.0.attn.c_attn');
  });
});

describe.skipIf(!HAVE_NUMPY)('writePeftAdapter on the make_models.py architectures', () => {
  const model = (name: string): HfModelConfig => readHfModelConfig(path.join(pyDir, name));
  const config = (dir: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  const keys = (dir: string): string[] => Object.keys(readSafetensorsFileSync(path.join(dir, 'adapter_model.safetensors')).tensors).sort();

  it.each([
    // case, expected module path of layer 1's first selected module, layers_pattern (an old-layout
    // multimodal Gemma 3 gets its stored list and the one current transformers builds)
    ['gpt2-untied-f16', ['c_attn', 'c_fc'], 'transformer.h.1.attn.c_attn', 'h'], // bare names stored: canonical prefix
    ['neox-bf16-sharded', ['query_key_value', 'dense_4h_to_h'], 'gpt_neox.layers.1.attention.query_key_value', 'layers'],
    ['neox-sequential', ['query_key_value'], 'gpt_neox.layers.1.attention.query_key_value', 'layers'],
    ['llama-sharded', ['q_proj', 'v_proj', 'down_proj'], 'model.layers.1.self_attn.q_proj', 'layers'],
    ['llama-tied-bf16', ['k_proj', 'o_proj'], 'model.layers.1.self_attn.k_proj', 'layers'],
    ['qwen2-f16', ['q_proj', 'v_proj'], 'model.layers.1.self_attn.q_proj', 'layers'],
    ['gemma', ['gate_proj', 'up_proj', 'down_proj'], 'model.layers.1.mlp.gate_proj', 'layers'],
    ['gemma3-multimodal', ['q_proj', 'self_attn.o_proj'], 'language_model.model.layers.1.self_attn.q_proj', ['model.layers', 'language_model.layers']],
  ] as [string, string[], string, string | string[]][])('%s %j', (name, targets, firstPath, pattern) => {
    const m = model(name);
    const spec: PeftLoraSpec = { r: 2, alpha: 5, targetModules: targets, layers: [1] };
    const { dir, weights } = roundTrip(m, spec, `${name}-adapter`, 7);
    expect(peftModulePath(m, weights[0].layer, weights[0].module)).toBe(firstPath);
    expect(keys(dir)[0].startsWith(`base_model.model.${firstPath.slice(0, firstPath.indexOf('.1.') + 3)}`)).toBe(true);
    const cfg = config(dir);
    expect(cfg.fan_in_fan_out).toBe(m.modelType === 'gpt2');
    expect(cfg.layers_pattern).toEqual(pattern);
    expect(cfg.layers_to_transform).toEqual([1]);
    // PEFT's layer match (tuners_utils.check_target_module_exists) finds layer 1 in every key we wrote.
    const res = (Array.isArray(pattern) ? pattern : [pattern]).map((p) => new RegExp(`.*?\\.${p}\\.(\\d+)\\.`));
    for (const w of weights) expect(res.map((re) => re.exec(peftModulePath(m, w.layer, w.module))?.[1]).find((x) => x !== undefined)).toBe('1');
  });

  it('llama GQA v_proj and neox head-interleaved query_key_value land on the right canonical columns', () => {
    const llama = model('llama-sharded');
    const sel = selectModules(llama, ['v_proj'], [0]);
    expect(sel.map(({ m }) => [m.inDim, m.outDim])).toEqual([[32, 16]]);
    const neox = model('neox-bf16-sharded');
    const [{ m }] = selectModules(neox, ['query_key_value'], [0]);
    // Head 0's q, k, v, then head 1's: canonical W_K column 0 is output unit dHead.
    expect(m.parts.map((p) => p.units[0])).toEqual([0, 16, 32]);
  });
});
