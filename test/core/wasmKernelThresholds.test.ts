import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { GEMM_STOCK_MACS } from '../../src/core/backend/kernels/BatchMatMul_wasm';
import { GELU_KERNEL, LAYER_NORM_KERNEL } from '../../src/core/backend/kernels/inplaceKernels';
import { GELU_STOCK_SIZE } from '../../src/core/model/geluOp';
import { toLiveModel } from '../../src/core/model/liveModel';
import { initParams } from '../../src/core/model/params';
import { PRESETS } from '../../src/core/presets';
import { createTask } from '../../src/core/tasks/registry';
import { batchTensors, lastTokenLoss } from '../../src/core/train/evaluate';
import { Rng } from '../../src/core/util/rng';

/**
 * The multi-threaded matmul's fast flavour rounds its sums differently from the stock kernel (XNNPACK),
 * so it only takes unbatched products above GEMM_STOCK_MACS (batched ones it computes with the stock
 * kernel's bits); the fused GELU and LayerNorm only take tensors above their own sizes. Every product and GELU of a training step of every shipped
 * preset (and so of the example workspace's runs, committed from them, and the fine-tunes of
 * world-base, whose batches are smaller) must stay below both: their training reproduces bit for bit.
 */

interface Largest {
  unbatched: number;
  /** Elements of the largest GELU input. */
  gelu: number;
  /** Calls of the fused LayerNorm. */
  fusedLayerNorms: number;
}

/** Multiply-adds of the largest unbatched product `fn` runs and elements of its largest GELU, from the kernel calls. */
function largestProducts(fn: () => void): Largest {
  const backendName = tf.getBackend();
  const original = tf.getKernel('BatchMatMul', backendName);
  if (!original) throw new Error(`no BatchMatMul on ${backendName}`);
  const largest: Largest = { unbatched: 0, gelu: 0, fusedLayerNorms: 0 };
  const fusedLayerNorm = tf.getKernel(LAYER_NORM_KERNEL, backendName);
  const pow = tf.getKernel('Pow', backendName);
  const fusedGelu = tf.getKernel(GELU_KERNEL, backendName);
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const [M, K] = transposeA ? a.shape.slice(-2).reverse() : a.shape.slice(-2);
      const N = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
      const E = Math.max(...[a, b].map((t) => t.shape.slice(0, -2).reduce((x, y) => x * y, 1)));
      if (E === 1) largest.unbatched = Math.max(largest.unbatched, M * K * N);
      return original.kernelFunc(args);
    },
  });
  // The composite GELU raises x to the third power; the fused one is its own kernel.
  const sizeOf = (args: { inputs: Record<string, unknown> }): number => ((args.inputs.x ?? args.inputs.a) as tf.TensorInfo).shape.reduce((x, y) => x * y, 1);
  for (const k of [pow, fusedGelu]) {
    if (!k) continue;
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({ ...k, kernelFunc: (args) => ((largest.gelu = Math.max(largest.gelu, sizeOf(args))), k.kernelFunc(args)) });
  }
  if (fusedLayerNorm) {
    tf.unregisterKernel(LAYER_NORM_KERNEL, backendName);
    tf.registerKernel({ ...fusedLayerNorm, kernelFunc: (args) => ((largest.fusedLayerNorms += 1), fusedLayerNorm.kernelFunc(args)) });
  }
  try {
    fn();
  } finally {
    for (const k of [original, pow, fusedGelu, fusedLayerNorm]) {
      if (!k) continue;
      tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel(k);
    }
  }
  return largest;
}

beforeAll(async () => {
  await initBackend();
});

describe('the shipped presets train below the multi-threaded matmul, fused GELU and fused LayerNorm thresholds', () => {
  it.each(Object.keys(PRESETS))('%s', (name) => {
    const cfg = PRESETS[name].config;
    const task = createTask(cfg.task, cfg.taskOptions);
    const model = toLiveModel(cfg.model, initParams(cfg.model, cfg.seed));
    try {
      const largest = largestProducts(() =>
        tf.tidy(() => {
          const { tokens, targets } = batchTensors(task.sampleTrainBatch(new Rng(0), cfg.batchSize));
          const { value, grads } = tf.variableGrads(() => lastTokenLoss(cfg.model, model.params, tokens, targets), model.trainable);
          value.dataSync();
          tf.dispose(grads);
        }),
      );
      expect(largest.unbatched).toBeGreaterThan(0);
      expect(largest.unbatched).toBeLessThanOrEqual(GEMM_STOCK_MACS);
      expect(largest.gelu).toBeLessThanOrEqual(GELU_STOCK_SIZE);
      expect(largest.fusedLayerNorms).toBe(0);
      if (cfg.model.mlp) expect(largest.gelu).toBeGreaterThan(0);
    } finally {
      model.dispose();
    }
  });
});
