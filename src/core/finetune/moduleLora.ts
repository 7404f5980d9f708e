import * as tf from '@tensorflow/tfjs';
import type { PeftLoraSpec } from '../../shared/finetune';
import type { LinearModule } from '../hf/architectures/types';
import type { HfModelConfig } from '../hf/loadHfModel';
import { selectModules, type ModuleLoraWeights } from '../hf/peftWriter';
import type { Params } from '../model/forward';
import { Rng } from '../util/rng';

/**
 * A LoRA trained in PEFT's own terms: one A [d_in, r] and B [r, d_out] per adapted linear module of the
 * Hugging Face model (GPT-2's fused c_attn is one module with one A, as PEFT has it), so the trained
 * adapter saves as a PEFT folder with nothing lost. The forward pass reads it through the canonical
 * matrices each module holds: lora_A = A, lora_B = (alpha / r) · B's columns of that matrix's units.
 */
export interface ModuleLora {
  spec: PeftLoraSpec;
  modules: { layer: number; m: LinearModule; A: tf.Variable; B: tf.Variable }[];
  variables: tf.Variable[];
  /** The canonical unmerged adapter of forward(..., { adapter }), differentiable in A and B. */
  adapter(): Params;
  /** Host copies as the PEFT writer takes them (B unscaled). */
  weights(): ModuleLoraWeights[];
  dispose(): void;
}

/** PEFT's default target_modules per model type (its TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
export const DEFAULT_TARGET_MODULES: Record<string, string[]> = {
  gpt2: ['c_attn'],
  gpt_neox: ['query_key_value'],
  llama: ['q_proj', 'v_proj'],
  mistral: ['q_proj', 'v_proj'],
  qwen2: ['q_proj', 'v_proj'],
  gemma: ['q_proj', 'v_proj'],
  gemma2: ['q_proj', 'v_proj'],
  gemma3_text: ['q_proj', 'v_proj'],
  gemma3: ['q_proj', 'v_proj'],
};

export function defaultTargetModules(modelType: string): string[] {
  return DEFAULT_TARGET_MODULES[modelType] ?? ['q_proj', 'v_proj'];
}

/**
 * A fresh or restored module LoRA. Fresh: A ~ N(0, 1/d_in), B = 0 (so it starts as the base model),
 * drawn layer by layer, module by module from one stream of the seed: the same draws as the toy
 * models' LoRA (src/core/finetune/lora.ts) for the same matrices.
 */
export function createModuleLora(model: HfModelConfig, spec: PeftLoraSpec, seed: number, trained?: readonly ModuleLoraWeights[]): ModuleLora {
  const selected = selectModules(model, spec.targetModules, spec.layers);
  const rng = new Rng(seed ^ 0x10a);
  const tag = tf.util.now();
  const scale = spec.alpha / spec.r;
  const modules = selected.map(({ layer, m }, i) => {
    const given = trained?.find((w) => w.layer === layer && w.module === m.name);
    let a: Float32Array;
    let b: Float32Array;
    if (given) {
      if (given.A.length !== m.inDim * spec.r || given.B.length !== spec.r * m.outDim) throw new Error(`LoRA weights of layer ${layer} ${m.name} do not have rank ${spec.r}`);
      a = given.A;
      b = given.B;
    } else {
      a = new Float32Array(m.inDim * spec.r);
      const std = 1 / Math.sqrt(m.inDim);
      for (let k = 0; k < a.length; k++) a[k] = rng.normal() * std;
      b = new Float32Array(spec.r * m.outDim);
    }
    return { layer, m, A: variableFrom(a, [m.inDim, spec.r], `lora${tag}_${i}_A`), B: variableFrom(b, [spec.r, m.outDim], `lora${tag}_${i}_B`) };
  });
  const identity = (m: LinearModule, units: Int32Array): boolean => units.length === m.outDim && units.every((u, k) => u === k);
  const unitTensors = new Map<string, tf.Tensor1D>();
  for (const { layer, m } of modules)
    for (const part of m.parts) if (!identity(m, part.units)) unitTensors.set(`${layer}.${part.target}`, tf.tensor1d(part.units, 'int32'));
  return {
    spec,
    modules,
    variables: modules.flatMap((x) => [x.A, x.B]),
    adapter() {
      const out: Params = {};
      for (const { layer, m, A, B } of modules) {
        for (const part of m.parts) {
          const units = unitTensors.get(`${layer}.${part.target}`);
          out[`blocks.${layer}.${part.target}.lora_A`] = A;
          out[`blocks.${layer}.${part.target}.lora_B`] = (units ? tf.gather(B, units, 1) : B).mul(scale);
        }
      }
      return out;
    },
    weights: () =>
      modules.map(({ layer, m, A, B }) => ({ layer, module: m.name, inDim: m.inDim, outDim: m.outDim, A: A.dataSync() as Float32Array, B: B.dataSync() as Float32Array })),
    dispose() {
      modules.forEach((x) => {
        x.A.dispose();
        x.B.dispose();
      });
      unitTensors.forEach((t) => t.dispose());
    },
  };
}

/** A trainable variable holding `data`; the initial tensor is freed (a variable keeps its own copy). */
export function variableFrom(data: Float32Array, shape: number[], name: string): tf.Variable {
  const t = tf.tensor(data, shape);
  const v = tf.variable(t, true, name);
  t.dispose();
  return v;
}
