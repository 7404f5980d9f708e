import * as tf from '@tensorflow/tfjs';
import type { SaeArchitecture, SaeWeights } from './saeConfig';

/**
 * The SAE's forward pass on tensors (SAELens's `encode` / `decode`):
 *   pre = (x − b_dec) W_enc + b_enc            (b_dec subtracted when apply_b_dec_to_input)
 *   f   = ReLU(pre)                             standard
 *   f   = ReLU(pre) on the k largest pre, else 0  topk
 *   x̂   = f W_dec + b_dec
 * Call inside tf.tidy.
 */

export interface LiveSae {
  W_enc: tf.Tensor2D;
  b_enc: tf.Tensor1D;
  W_dec: tf.Tensor2D;
  b_dec: tf.Tensor1D;
}

export interface SaeShape {
  architecture: SaeArchitecture;
  k?: number;
  applyBDecToInput?: boolean;
}

/** The weights as tensors (the caller disposes them: `disposeSae`). */
export function liveSae(w: SaeWeights): LiveSae {
  return {
    W_enc: tf.tensor2d(w.W_enc.data, w.W_enc.shape as [number, number]),
    b_enc: tf.tensor1d(w.b_enc.data),
    W_dec: tf.tensor2d(w.W_dec.data, w.W_dec.shape as [number, number]),
    b_dec: tf.tensor1d(w.b_dec.data),
  };
}

export function disposeSae(s: LiveSae): void {
  for (const t of [s.W_enc, s.b_enc, s.W_dec, s.b_dec]) t.dispose();
}

/** The encoder's pre-activations [N, d_sae] of x [N, d_in]. */
export function preActivations(s: LiveSae, x: tf.Tensor2D, shape: SaeShape): tf.Tensor2D {
  const centred = shape.applyBDecToInput === false ? x : x.sub(s.b_dec);
  return centred.matMul(s.W_enc).add(s.b_enc);
}

/**
 * 1 at the k largest entries of each row of `pre` [N, d], else 0 (exactly k per row: built from topk's
 * indices, so ties cannot add more). A constant for gradients: tfjs has no gradient for TopK or
 * ScatterNd, and the mask's own gradient is zero anyway, so the ops run inside a customGrad.
 */
export function topkMask(pre: tf.Tensor2D, k: number): tf.Tensor2D {
  const [n, d] = pre.shape;
  const masked = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const { indices } = tf.topk(x, k, false);
    const rows = tf.range(0, n, 1, 'int32').expandDims(1).tile([1, k]);
    const coords = tf.stack([rows.reshape([-1]), indices.reshape([-1])], 1) as tf.Tensor2D;
    return { value: tf.scatterND(coords, tf.ones([n * k]), [n, d]), gradFunc: (_dy: tf.Tensor) => tf.zerosLike(x) };
  });
  return masked(pre) as tf.Tensor2D;
}

/** Feature activations f [N, d_sae] from pre-activations. */
export function activate(pre: tf.Tensor2D, shape: SaeShape): tf.Tensor2D {
  const relu = pre.relu() as tf.Tensor2D;
  if (shape.architecture === 'standard') return relu;
  if (shape.k === undefined) throw new Error('a topk SAE needs k');
  return relu.mul(topkMask(pre, shape.k));
}

export function encode(s: LiveSae, x: tf.Tensor2D, shape: SaeShape): tf.Tensor2D {
  return activate(preActivations(s, x, shape), shape);
}

export function decode(s: LiveSae, f: tf.Tensor2D): tf.Tensor2D {
  return f.matMul(s.W_dec).add(s.b_dec);
}

export function reconstruct(s: LiveSae, x: tf.Tensor2D, shape: SaeShape): tf.Tensor2D {
  return decode(s, encode(s, x, shape));
}
