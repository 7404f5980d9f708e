import * as tf from '@tensorflow/tfjs';
import { checkLayer, checkPrompts, type AttentionPatternsResult } from '../../shared/analysis';
import { hookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import { forward, type Params } from '../model/forward';
import { tidyHost } from '../util/tidyHost';
import { ApiArgumentError } from '../../shared/errors';

/** Prompts [P][T] as an int32 tensor [P, T]. Call inside tf.tidy. */
export function promptTensor(tokens: readonly (readonly number[])[]): tf.Tensor2D {
  return tf.tensor2d(Int32Array.from(tokens.flat()), [tokens.length, tokens[0].length], 'int32');
}

/**
 * Attention patterns of the chosen layers (default all): per layer `heads[head][prompt][query][key]`
 * (shape documented on `LayerAttention` in src/shared/analysis.ts).
 */
export function attentionPatterns(
  c: ModelConfig,
  params: Params,
  tokens: readonly (readonly number[])[],
  opts: { layers?: readonly number[] } = {},
): AttentionPatternsResult {
  checkPrompts(c, tokens);
  const layers = opts.layers ?? Array.from({ length: c.nLayers }, (_, l) => l);
  if (layers.length === 0) throw new ApiArgumentError('attentionPatterns: layers is empty');
  for (const l of layers) checkLayer(c, l, 'attentionPatterns');
  const hooks = layers.map((l) => hookName('attn.hook_pattern', l));
  const heads = tidyHost(() => {
    const { cache } = forward(c, params, promptTensor(tokens), { cache: hooks });
    // [P, H, Tq, Tk] → [H, P, Tq, Tk]
    return hooks.map((h) => cache[h].transpose([1, 0, 2, 3]).arraySync() as number[][][][]);
  });
  return { layers: layers.map((layer, i) => ({ layer, hook: hooks[i], heads: heads[i] })) };
}
