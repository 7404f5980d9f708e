import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { GEMM_STOCK_BATCHED_MACS, GEMM_STOCK_MACS } from '../../src/core/backend/kernels/BatchMatMul_wasm';
import { toLiveModel } from '../../src/core/model/liveModel';
import { initParams } from '../../src/core/model/params';
import { PRESETS } from '../../src/core/presets';
import { createTask } from '../../src/core/tasks/registry';
import { batchTensors, lastTokenLoss } from '../../src/core/train/evaluate';
import { Rng } from '../../src/core/util/rng';

/**
 * The multi-threaded matmul rounds its sums differently from the stock kernel, so it only takes products
 * above GEMM_STOCK_MACS (GEMM_STOCK_BATCHED_MACS batched). Every product of a training step of every shipped
 * preset (and so of the example workspace's runs, committed from them, and the fine-tunes of
 * world-base, whose batches are smaller) must stay below both: their training reproduces bit for bit.
 */

interface Largest {
  unbatched: number;
  batched: number;
}

/** Multiply-adds of the largest unbatched and batched products `fn` runs, read from the kernel calls. */
function largestProducts(fn: () => void): Largest {
  const backendName = tf.getBackend();
  const original = tf.getKernel('BatchMatMul', backendName);
  if (!original) throw new Error(`no BatchMatMul on ${backendName}`);
  const largest: Largest = { unbatched: 0, batched: 0 };
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const [M, K] = transposeA ? a.shape.slice(-2).reverse() : a.shape.slice(-2);
      const N = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
      const E = Math.max(...[a, b].map((t) => t.shape.slice(0, -2).reduce((x, y) => x * y, 1)));
      const macs = E * M * K * N;
      if (E === 1) largest.unbatched = Math.max(largest.unbatched, macs);
      else largest.batched = Math.max(largest.batched, macs);
      return original.kernelFunc(args);
    },
  });
  try {
    fn();
  } finally {
    tf.unregisterKernel('BatchMatMul', backendName);
    tf.registerKernel(original);
  }
  return largest;
}

beforeAll(async () => {
  await initBackend();
});

describe('the shipped presets train below the multi-threaded matmul thresholds', () => {
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
      expect(largest.batched).toBeLessThanOrEqual(GEMM_STOCK_BATCHED_MACS);
    } finally {
      model.dispose();
    }
  });
});
