import * as tf from '@tensorflow/tfjs';
import { hookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import { forward, type Params } from '../model/forward';
import type { HostTensor } from '../model/params';
import { tidyHost } from '../util/tidyHost';

export interface ForwardOutputs {
  /** [T, d_vocab] */
  logits: HostTensor;
  /** Per layer, [T, d_model]. */
  residPost: HostTensor[];
}

/**
 * One sequence through the model, returning the logits and every block's residual stream on the host
 * (all device tensors released). `adapter` switches an unmerged LoRA on.
 */
export function forwardOutputs(c: ModelConfig, params: Params, tokens: readonly number[], adapter?: Params): ForwardOutputs {
  if (tokens.length === 0) throw new Error('no tokens to run');
  for (const t of tokens) if (!Number.isInteger(t) || t < 0 || t >= c.dVocab) throw new Error(`token id ${t} outside 0..${c.dVocab - 1}`);
  const hooks = Array.from({ length: c.nLayers }, (_, l) => hookName('hook_resid_post', l));
  const T = tokens.length;
  return tidyHost(() => {
    const { logits, cache } = forward(c, params, tf.tensor2d([...tokens], [1, T], 'int32'), { cache: hooks, adapter });
    return {
      logits: { shape: [T, c.dVocab], data: logits.dataSync() as Float32Array },
      residPost: hooks.map((h) => ({ shape: [T, c.dModel], data: cache[h].dataSync() as Float32Array })),
    };
  });
}
