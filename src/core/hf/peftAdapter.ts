import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, openSafetensors, readSafetensorsHeaderSync, type SafetensorsEntry } from '../io/safetensors';
import type { HostTensor } from '../model/params';
import type { LinearModule } from './architectures/types';
import { HfConfigReader } from './configReader';
import { readJsonFile, type HfModelConfig } from './loadHfModel';
import { stripPrefix } from './weightSource';
import { transpose } from './architectures/shared';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** What an adapter folder says about itself, checked against its model from the headers alone. */
export interface PeftAdapterInfo {
  dir: string;
  r: number;
  alpha: number;
  useRslora: boolean;
  /** alpha / r, or alpha / sqrt(r) with rsLoRA: already folded into the canonical lora_B. */
  scale: number;
  /** Adapted modules as stored (without `base_model.model.`). */
  modules: string[];
  layers: number[];
  /** adapter_config.json's target_modules as written (a list, or one regex string). */
  targets: string[] | string;
}

export interface PeftAdapter extends PeftAdapterInfo {
  /**
   * `blocks.{l}.{target}.lora_A` [d_in, r] and `.lora_B` [r, d_out] (scaled), in the canonical 2-D view
   * of each matrix: what `forward(..., { adapter })` and src/core/finetune/lora.ts read.
   */
  tensors: Record<string, HostTensor>;
}

const KEY = /^base_model\.model\.(.+)\.(lora_A|lora_B)(?:\.default)?\.weight$/;

/** PEFT's target_modules test: a list matches a module whose name is an entry or ends with '.' + entry; a string is a full regex. */
function targeted(targets: unknown, module: string): boolean {
  if (targets === null || targets === undefined || targets === 'all-linear') return true;
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(module);
  if (Array.isArray(targets)) return targets.some((t) => typeof t === 'string' && (module === t || module.endsWith(`.${t}`)));
  return false;
}

function layersToTransform(cfg: HfConfigReader): number[] | null {
  const v = cfg.json.layers_to_transform;
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x))) return v as number[];
  return cfg.fail(`"layers_to_transform" must be an integer or a list of integers (got ${JSON.stringify(v)})`);
}

/** Refuses PEFT options whose adapters the unmerged forward would not reproduce. */
function checkOptions(cfg: HfConfigReader): void {
  const peftType = cfg.json.peft_type;
  if (peftType !== undefined && peftType !== 'LORA') cfg.fail(`"peft_type" is ${JSON.stringify(peftType)}; only LORA adapters are read`);
  cfg.refuseIf(cfg.bool('use_dora', false), 'use_dora', 'DoRA magnitude vectors');
  cfg.refuseIf(cfg.str('bias', 'none') !== 'none', 'bias', 'LoRA bias training');
  const mts = cfg.json.modules_to_save;
  cfg.refuseIf(Array.isArray(mts) && mts.length > 0, 'modules_to_save', 'fully fine-tuned modules');
  for (const key of ['rank_pattern', 'alpha_pattern']) {
    const p = cfg.obj(key);
    cfg.refuseIf(p !== null && Object.keys(p).length > 0, key, 'per-module ranks or alphas');
  }
}

/**
 * Reads a PEFT LoRA adapter folder for `model`, checking every adapted module against the model: it
 * must be one of the architecture's linear layers, in target_modules and layers_to_transform, with
 * lora_A [r, in] and lora_B [out, r] of that layer's sizes. Errors name the module.
 */
export function loadPeftAdapter(dir: string, model: HfModelConfig): PeftAdapter {
  return readAdapter(dir, model, true) as PeftAdapter;
}

/**
 * The same checks as loadPeftAdapter from adapter_config.json and the safetensors header only (no
 * weights read): whether an adapter folder fits a model, for listing and registering adapters.
 */
export function checkPeftAdapter(dir: string, model: HfModelConfig): PeftAdapterInfo {
  return readAdapter(dir, model, false);
}

function readAdapter(dir: string, model: HfModelConfig, load: boolean): PeftAdapterInfo | PeftAdapter {
  const cfgFile = join(dir, ADAPTER_CONFIG);
  const cfg = new HfConfigReader(cfgFile, readJsonFile(cfgFile));
  checkOptions(cfg);
  const r = cfg.int('r', 8);
  if (r < 1) cfg.fail('"r" must be at least 1');
  const alpha = cfg.num('lora_alpha', 8);
  const useRslora = cfg.bool('use_rslora', false);
  const scale = useRslora ? alpha / Math.sqrt(r) : alpha / r;
  const allowedLayers = layersToTransform(cfg);

  const file = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(file)) {
    throw new CheckpointError(file, existsSync(join(dir, 'adapter_model.bin')) ? 'missing (only safetensors adapters are read; this folder has adapter_model.bin)' : 'file not found');
  }
  const st: { entries: ReadonlyMap<string, SafetensorsEntry>; read?(name: string): Float32Array } = load ? openSafetensors(readFileSync(file), file) : readSafetensorsHeaderSync(file);

  const pairs = new Map<string, { A?: string; B?: string }>();
  for (const name of st.entries.keys()) {
    const m = KEY.exec(name);
    if (!m) throw new CheckpointError(file, `unexpected tensor "${name}" (only base_model.model.<module>.lora_A/lora_B weights are read)`);
    const pair = pairs.get(m[1]) ?? {};
    pair[m[2] === 'lora_A' ? 'A' : 'B'] = name;
    pairs.set(m[1], pair);
  }
  if (pairs.size === 0) throw new CheckpointError(file, 'holds no LoRA weights');

  const { architecture: arch, config: c } = model;
  const linear = arch.linearModules(c);
  const locate = (module: string): { layer: number; m: LinearModule } | null => {
    const bare = stripPrefix(module, arch.prefixes);
    for (let l = 0; l < c.nLayers; l++) {
      const p = arch.blockPrefix(l);
      if (!bare.startsWith(p)) continue;
      const m = linear.find((x) => x.name === bare.slice(p.length));
      return m ? { layer: l, m } : null;
    }
    return null;
  };

  const tensors: Record<string, HostTensor> = {};
  const layers = new Set<number>();
  for (const [module, pair] of pairs) {
    const where = `module "${module}"`;
    const found = locate(module);
    if (!found) {
      const adaptable = linear.map((m) => `${arch.blockPrefix(0).replace('0', '{l}')}${m.name}`).join(', ');
      throw new CheckpointError(file, `${where} is not a linear layer of this ${model.modelType} model with ${c.nLayers} layers (adaptable: ${adaptable})`);
    }
    const { layer, m } = found;
    if (!pair.A || !pair.B) throw new CheckpointError(file, `${where} has ${pair.A ? 'lora_A' : 'lora_B'} but no ${pair.A ? 'lora_B' : 'lora_A'}`);
    if (!targeted(cfg.json.target_modules, module)) throw new CheckpointError(file, `${where} has LoRA weights but is not in target_modules ${JSON.stringify(cfg.json.target_modules)}`);
    if (allowedLayers && !allowedLayers.includes(layer)) throw new CheckpointError(file, `${where} is in layer ${layer}, outside layers_to_transform ${JSON.stringify(allowedLayers)}`);
    const shapeA = st.entries.get(pair.A)?.shape ?? [];
    const shapeB = st.entries.get(pair.B)?.shape ?? [];
    if (shapeA.join(',') !== `${r},${m.inDim}` || shapeB.join(',') !== `${m.outDim},${r}`) {
      throw new CheckpointError(
        file,
        `${where}: lora_A is [${shapeA}] and lora_B is [${shapeB}] but this model's ${m.name} (${m.inDim} → ${m.outDim}) with r = ${r} needs [${r},${m.inDim}] and [${m.outDim},${r}]`,
      );
    }
    layers.add(layer);
    if (!st.read) continue;
    const A = transpose(st.read(pair.A), r, m.inDim); // [in, r]
    const B = st.read(pair.B); // [out, r]
    for (const part of m.parts) {
      const n = part.units.length;
      const Bc = new Float32Array(r * n);
      for (let k = 0; k < r; k++) for (let col = 0; col < n; col++) Bc[k * n + col] = scale * B[part.units[col] * r + k];
      tensors[`blocks.${layer}.${part.target}.lora_A`] = { shape: [m.inDim, r], data: A };
      tensors[`blocks.${layer}.${part.target}.lora_B`] = { shape: [r, n], data: Bc };
    }
  }
  const tm = cfg.json.target_modules;
  const targets = typeof tm === 'string' ? tm : Array.isArray(tm) ? tm.filter((t): t is string => typeof t === 'string') : [...new Set([...pairs.keys()].map((k) => k.slice(k.lastIndexOf('.') + 1)))].sort();
  const info: PeftAdapterInfo = { dir, r, alpha, useRslora, scale, modules: [...pairs.keys()].sort(), layers: [...layers].sort((a, b) => a - b), targets };
  return load ? { ...info, tensors } : info;
}
