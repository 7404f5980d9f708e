import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PeftLoraSpec } from '../../shared/finetune';
import { writeFileAtomicSync } from '../io/atomicWrite';
import { CheckpointError, readSafetensorsHeaderSync, writeSafetensorsFileSync, type NamedTensor } from '../io/safetensors';
import { transpose } from './architectures/shared';
import type { LinearModule } from './architectures/types';
import type { HfModelConfig } from './loadHfModel';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './peftAdapter';
import { INDEX_FILE, SINGLE_FILE, stripPrefix } from './weightSource';

/**
 * Writes PEFT LoRA adapter folders (adapter_config.json + adapter_model.safetensors) as PEFT's
 * `save_pretrained` does, for the Hugging Face models of ./architectures: what ./peftAdapter.ts reads
 * back, and what `PeftModel.from_pretrained(base, dir)` loads in Python.
 */

/** PEFT LoraConfig fields we write and read back (r, lora_alpha, target_modules, layers_to_transform). */
export type { PeftLoraSpec };

export interface ModuleLoraWeights {
  layer: number;
  /** LinearModule.name within the block: 'attn.c_attn', 'self_attn.q_proj'. */
  module: string;
  inDim: number;
  outDim: number;
  /** A [inDim, r] row-major. */
  A: Float32Array;
  /** B [r, outDim] row-major, NOT scaled by alpha / r. */
  B: Float32Array;
}

/** Where transformers puts the blocks when the weight files do not say (they store bare 'h.0.…'). */
const CANONICAL_PREFIX: Record<string, string> = { gpt2: 'transformer.', gpt_neox: 'gpt_neox.', gemma3: 'model.language_model.' };
const DEFAULT_PREFIX = 'model.';

const prefixCache = new WeakMap<HfModelConfig, string>();

/** Tensor names of a model folder's weights, from the index or the single file's header (no weights read). */
function storedNames(dir: string): string[] {
  const index = join(dir, INDEX_FILE);
  if (existsSync(index)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(index, 'utf8'));
    } catch (err) {
      throw new CheckpointError(index, `not valid JSON (${(err as Error).message})`);
    }
    const map = (json as { weight_map?: unknown } | null)?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new CheckpointError(index, 'has no "weight_map" object');
    return Object.keys(map);
  }
  const single = join(dir, SINGLE_FILE);
  return existsSync(single) ? [...readSafetensorsHeaderSync(single).entries.keys()] : [];
}

/** The base-model prefix PEFT's module paths carry before the blocks: what the files store, else transformers' own. */
function modelPrefix(model: HfModelConfig): string {
  let prefix = prefixCache.get(model);
  if (prefix !== undefined) return prefix;
  const { architecture: arch } = model;
  const block = arch.blockPrefix(0);
  prefix = CANONICAL_PREFIX[model.modelType] ?? DEFAULT_PREFIX;
  for (const name of storedNames(model.dir)) {
    const bare = stripPrefix(name, arch.prefixes);
    if (!bare.startsWith(block)) continue;
    if (bare !== name) prefix = name.slice(0, name.length - bare.length);
    break;
  }
  prefixCache.set(model, prefix);
  return prefix;
}

/**
 * The module path PEFT keys use for block `layer`'s `module` of this model: 'transformer.h.0.attn.c_attn'.
 * The prefix before the block is what the model's weight files store ('model.language_model.' or
 * 'language_model.model.' for a multimodal Gemma 3); where they store bare names ('h.0.…'), the
 * architecture's canonical one: gpt2 'transformer.', gpt_neox 'gpt_neox.', llama, qwen2 and gemma 'model.'.
 */
export function peftModulePath(model: HfModelConfig, layer: number, module: string): string {
  const { architecture: arch, config: c } = model;
  if (!Number.isInteger(layer) || layer < 0 || layer >= c.nLayers) throw new Error(`layer ${layer} is outside 0..${c.nLayers - 1} of this ${model.modelType} model`);
  const names = arch.linearModules(c).map((m) => m.name);
  if (!names.includes(module)) throw new Error(`"${module}" is not a linear layer of a ${model.modelType} block (adaptable: ${names.join(', ')})`);
  return `${modelPrefix(model)}${arch.blockPrefix(layer)}${module}`;
}

/** PEFT's list rule (tuners_utils.check_target_module_exists): the key is an entry or ends with '.' + entry. */
function matches(path: string, entry: string): boolean {
  return path === entry || path.endsWith(`.${entry}`);
}

function adaptableList(model: HfModelConfig): string {
  const names = model.architecture.linearModules(model.config).map((m) => m.name);
  const short = [...new Set(names.map((n) => n.slice(n.lastIndexOf('.') + 1)))];
  return `${names.join(', ')} (or the last part: ${short.join(', ')})`;
}

/**
 * Which LinearModules of block `layers` a target_modules list selects (PEFT's rule: a module whose path
 * equals an entry or ends with '.' + entry), in layer order then the architecture's module order.
 * Errors name unknown entries and list the adaptable ones.
 */
export function selectModules(model: HfModelConfig, targetModules: readonly string[], layers: readonly number[]): { layer: number; m: LinearModule }[] {
  const { architecture: arch, config: c } = model;
  if (targetModules.length === 0) throw new Error(`target_modules is empty; adaptable modules of this ${model.modelType} model: ${adaptableList(model)}`);
  if (layers.length === 0) throw new Error('layers_to_transform is empty (list the layers to adapt)');
  const bad = layers.filter((l) => !Number.isInteger(l) || l < 0 || l >= c.nLayers);
  if (bad.length) throw new Error(`layers_to_transform ${JSON.stringify(bad)} outside 0..${c.nLayers - 1} of this ${model.modelType} model`);
  const modules = arch.linearModules(c);
  const all = Array.from({ length: c.nLayers }, (_, l) => modules.map((m) => ({ layer: l, m, path: peftModulePath(model, l, m.name) }))).flat();
  const unknown = targetModules.filter((t) => !all.some((x) => matches(x.path, t)));
  if (unknown.length) {
    throw new Error(`target_modules ${unknown.map((t) => `"${t}"`).join(', ')} name${unknown.length === 1 ? 's' : ''} no linear layer of this ${model.modelType} model's blocks; adaptable: ${adaptableList(model)}`);
  }
  const wanted = new Set(layers);
  const chosen = all.filter((x) => wanted.has(x.layer));
  const idle = targetModules.filter((t) => !chosen.some((x) => matches(x.path, t)));
  if (idle.length) throw new Error(`target_modules ${idle.map((t) => `"${t}"`).join(', ')} select nothing in layers_to_transform ${JSON.stringify([...wanted].sort((a, b) => a - b))}`);
  return chosen.filter((x) => targetModules.some((t) => matches(x.path, t))).map(({ layer, m }) => ({ layer, m }));
}

/** A module list's path without its first component: 'transformer.h' → 'h', 'model.language_model.layers' → 'language_model.layers'. */
function patternOf(prefix: string, model: HfModelConfig): string | null {
  const list = `${prefix}${model.architecture.blockPrefix(0)}`.replace(/\.0\.$/, '');
  const dot = list.indexOf('.');
  return dot > 0 && dot < list.length - 1 ? list.slice(dot + 1) : null;
}

/**
 * PEFT's layers_pattern for this model. PEFT finds a module's layer with `.*?\.{pattern}\.(\d+)\.`,
 * so the pattern is the block list's path without its first component: 'h' for 'transformer.h',
 * 'layers' for 'model.layers', and for a multimodal Gemma 3 'language_model.layers' (never a vision
 * tower's 'encoder.layers'). Where the files store another layout than current transformers builds
 * (an older multimodal Gemma 3: 'language_model.model.layers'), both patterns, as a list.
 */
function layersPattern(model: HfModelConfig): string | string[] | null {
  const stored = patternOf(modelPrefix(model), model);
  const current = patternOf(CANONICAL_PREFIX[model.modelType] ?? DEFAULT_PREFIX, model);
  if (stored === null || current === null || stored === current) return stored ?? current;
  return [stored, current];
}

/**
 * Writes `dir`/adapter_config.json and adapter_model.safetensors (each atomically; an existing adapter
 * there is replaced). Keys are `base_model.model.<path>.lora_A.weight` [r, in] and `.lora_B.weight`
 * [out, r]: torch nn.Linear layouts, what PEFT saves (GPT-2's Conv1D modules included, with
 * fan_in_fan_out true). `weights` must hold exactly the modules `spec` selects, B unscaled.
 */
export function writePeftAdapter(dir: string, model: HfModelConfig, spec: PeftLoraSpec, weights: readonly ModuleLoraWeights[], opts: { baseModelNameOrPath?: string } = {}): void {
  const { r, alpha } = spec;
  if (!Number.isInteger(r) || r < 1) throw new Error(`LoRA rank r must be a positive integer (got ${r})`);
  if (!Number.isFinite(alpha) || alpha <= 0) throw new Error(`lora_alpha must be a positive number (got ${alpha})`);
  const selected = selectModules(model, spec.targetModules, spec.layers);
  const byKey = new Map<string, ModuleLoraWeights>();
  for (const w of weights) {
    const key = `${w.layer}:${w.module}`;
    if (byKey.has(key)) throw new Error(`LoRA weights for layer ${w.layer} ${w.module} are given twice`);
    byKey.set(key, w);
  }
  const tensors: Record<string, NamedTensor> = {};
  for (const { layer, m } of selected) {
    const where = `layer ${layer} ${m.name}`;
    const w = byKey.get(`${layer}:${m.name}`);
    if (!w) throw new Error(`no LoRA weights for ${where}, which target_modules ${JSON.stringify(spec.targetModules)} selects`);
    byKey.delete(`${layer}:${m.name}`);
    if (w.inDim !== m.inDim || w.outDim !== m.outDim) throw new Error(`LoRA weights for ${where} are ${w.inDim} → ${w.outDim} but the module is ${m.inDim} → ${m.outDim}`);
    if (w.A.length !== m.inDim * r || w.B.length !== r * m.outDim) {
      throw new Error(`LoRA weights for ${where}: A has ${w.A.length} and B ${w.B.length} values; rank ${r} needs A [${m.inDim}, ${r}] and B [${r}, ${m.outDim}]`);
    }
    for (const [name, data] of [['A', w.A], ['B', w.B]] as const) {
      if (!data.every((x) => Number.isFinite(x))) throw new Error(`LoRA ${name} of ${where} holds a non-finite value`);
    }
    const key = `base_model.model.${peftModulePath(model, layer, m.name)}`;
    tensors[`${key}.lora_A.weight`] = { shape: [r, m.inDim], data: transpose(w.A, m.inDim, r) };
    tensors[`${key}.lora_B.weight`] = { shape: [m.outDim, r], data: transpose(w.B, r, m.outDim) };
  }
  const extra = [...byKey.values()];
  if (extra.length) {
    throw new Error(`LoRA weights for ${extra.map((w) => `layer ${w.layer} ${w.module}`).join(', ')} are not selected by target_modules ${JSON.stringify(spec.targetModules)} and layers ${JSON.stringify(spec.layers)}`);
  }
  const conv = selected.filter((x) => x.m.layout === 'conv1d').length;
  if (conv !== 0 && conv !== selected.length) throw new Error('internal: the selected modules mix Conv1D and Linear layouts; PEFT has one fan_in_fan_out per adapter');

  const config = {
    alpha_pattern: {},
    base_model_name_or_path: opts.baseModelNameOrPath ?? resolve(model.dir),
    bias: 'none',
    fan_in_fan_out: conv > 0,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: layersPattern(model),
    layers_to_transform: [...new Set(spec.layers)].sort((a, b) => a - b),
    lora_alpha: alpha,
    lora_dropout: 0,
    modules_to_save: null,
    peft_type: 'LORA',
    r,
    rank_pattern: {},
    revision: null,
    target_modules: [...new Set(spec.targetModules)],
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
  writeSafetensorsFileSync(join(dir, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
  // The config last: a folder is an adapter once it has one (PEFT writes it with sorted keys, indent 2).
  writeFileAtomicSync(join(dir, ADAPTER_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
}
