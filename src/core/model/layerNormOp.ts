import * as tf from '@tensorflow/tfjs';
import { inPlaceKernelServes, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from '../backend/kernels/inplaceKernels';

/**
 * LayerNorm over the last axis, (x − mean)/√(var + eps)·w + b.
 *
 * Inputs with more than LAYER_NORM_STOCK_SIZE elements on the wasm backend take one kernel each way
 * (assembly/inplace.ts) instead of ~8 ops forward and ~20 backward, each a pass over memory with its own
 * bookkeeping (~25 ms of the 2-layer d = 256 step). It multiplies by 1/√(var + eps) where the composite
 * divides, and sums in its own order: float rounding apart, the same. Smaller inputs keep the composite's
 * exact numbers: every LayerNorm of a shipped preset's training step is below the size
 * (test/core/wasmKernelThresholds.test.ts), so their runs reproduce bit for bit.
 */
export const LAYER_NORM_STOCK_SIZE = 2 ** 18;

export function layerNormOp<R extends tf.Tensor>(x: R, w: tf.Tensor, b: tf.Tensor, eps: number): R {
  const D = x.shape[x.shape.length - 1];
  if (
    x.size > LAYER_NORM_STOCK_SIZE &&
    D % 4 === 0 &&
    x.dtype === 'float32' &&
    w.shape.length === 1 &&
    b.shape.length === 1 &&
    inPlaceKernelServes(LAYER_NORM_KERNEL)
  ) {
    return fusedLayerNorm(eps)(x, w, b) as R;
  }
  return layerNormComposite(x, w, b, eps);
}

/** The composite form, as the toy presets have always computed it. */
export function layerNormComposite<R extends tf.Tensor>(x: R, w: tf.Tensor, b: tf.Tensor, eps: number): R {
  const mean = x.mean(-1, true);
  const centred = x.sub(mean);
  const variance = centred.square().mean(-1, true);
  return centred.div(variance.add(eps).sqrt()).mul(w).add(b) as R;
}

const fused = new Map<number, (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

/** The custom-gradient op for one eps (tf.customGrad takes tensors only). */
function fusedLayerNorm(eps: number): (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  let f = fused.get(eps);
  if (!f) {
    f = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM_KERNEL, { x, w, b }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      save([x, w, mean, rstd]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sw, smean, srstd] = saved;
          return tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, { dy, x: sx, w: sw, mean: smean, rstd: srstd }) as tf.Tensor[];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    fused.set(eps, f);
  }
  return f;
}
