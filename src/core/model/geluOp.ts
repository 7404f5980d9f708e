import * as tf from '@tensorflow/tfjs';
import { GELU_GRAD_KERNEL, GELU_KERNEL, inPlaceKernelServes } from '../backend/kernels/inplaceKernels';

/**
 * GELU with the tanh approximation (GPT-2's), 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 *
 * Tensors with more than GELU_STOCK_SIZE elements on the wasm backend take one fused kernel each way
 * (assembly/inplace.ts): the composite costs a scalar libm Pow and Tanh plus seven passes over memory,
 * ~130 ms of a 2-layer d = 256 step at batch 128 × 16, against ~3 ms fused. The two differ by float
 * rounding (≲ 3e-7 relative), so smaller tensors keep the composite's exact numbers: every activation of a
 * shipped preset's training step is below the size (test/core/wasmKernelThresholds.test.ts), and their runs
 * reproduce bit for bit.
 */
export const GELU_STOCK_SIZE = 2 ** 20;

export function geluTanh<R extends tf.Tensor>(x: R): R {
  if (x.size > GELU_STOCK_SIZE && x.dtype === 'float32' && inPlaceKernelServes(GELU_KERNEL)) return fusedGelu(x) as R;
  return geluComposite(x);
}

/** The composite form, as the toy presets have always computed it. */
export function geluComposite<R extends tf.Tensor>(x: R): R {
  const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(inner.tanh().add(1)) as R;
}

const fusedGelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.engine().runKernel(GELU_KERNEL, { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(GELU_GRAD_KERNEL, { x: saved[0], dy }) as tf.Tensor,
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);
