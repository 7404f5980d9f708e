import * as tf from '@tensorflow/tfjs';
import type { SteerSpec } from '../../shared/finetune';
import { hookName, parseHookName, type HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import type { Intervention } from '../model/forward';

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

/** An `add` intervention of `vector` [d_model] at the spec's hook and positions. */
export function steeringIntervention(c: ModelConfig, spec: SteerSpec, vector: tf.Tensor, scale?: number): Intervention {
  return { hook: steerHook(c, spec), kind: 'add', value: vector, positions: spec.positions === 'all' ? undefined : spec.positions, scale };
}
