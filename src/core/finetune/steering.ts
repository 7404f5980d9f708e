import * as tf from '@tensorflow/tfjs';
import type { SteerSpec } from '../../shared/finetune';
import { hookName, parseHookName, type HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import type { Intervention } from '../model/forward';
import { Rng } from '../util/rng';

/** The hook a steering spec reads and adds at (TransformerLens name). */
export function steerHook(c: ModelConfig, spec: SteerSpec): HookName {
  if (spec.layer >= c.nLayers) throw new Error(`steering layer ${spec.layer} outside 0..${c.nLayers - 1}`);
  const name = spec.hook ?? hookName('hook_resid_post', spec.layer);
  const parsed = parseHookName(name);
  if (!parsed) throw new Error(`unknown hook '${name}'`);
  // A hook the forward pass never reaches would make the vector silently do nothing.
  if (parsed.layer !== null && parsed.layer >= c.nLayers) throw new Error(`hook '${name}' is outside the model's layers 0..${c.nLayers - 1}`);
  const residLike = ['hook_resid_pre', 'hook_resid_mid', 'hook_resid_post', 'hook_attn_out', 'hook_mlp_out', 'hook_embed'];
  if (!residLike.includes(parsed.hook)) throw new Error(`steering adds a d_model vector: hook '${name}' is not a residual-stream hook`);
  return name as HookName;
}

/**
 * An `add` intervention of `vector` [d_model] at the spec's hook and positions. Positions 'completion'
 * need the batch's loss mask [B, T] (1 where a completion token is predicted): the vector is added there only.
 */
export function steeringIntervention(c: ModelConfig, spec: SteerSpec, vector: tf.Tensor, scale?: number, completionMask?: tf.Tensor2D): Intervention {
  const hook = steerHook(c, spec);
  if (spec.positions === 'completion') {
    if (!completionMask) throw new Error("steering positions 'completion' apply to text datasets (the toy tasks read one answer at the last position: give that position)");
    return { hook, kind: 'add', value: completionMask.expandDims(2).mul(vector), scale };
  }
  return { hook, kind: 'add', value: vector, positions: spec.positions === 'all' ? undefined : spec.positions, scale };
}

/**
 * A trained vector's starting point: small and random (from exactly zero, every seed would follow the
 * same path but for data order), the same draws for the toy models and model folders.
 */
export function initialSteeringVector(dModel: number, seed: number): Float32Array {
  const rng = new Rng(seed ^ 0x57ee);
  return Float32Array.from({ length: dModel }, () => rng.normal() * 0.01);
}
