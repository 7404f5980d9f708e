import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { arrayStream, ShuffleBuffer } from '../../src/core/sae/activationStream';
import { disposeSae, encode, liveSae, preActivations, topkMask } from '../../src/core/sae/saeModel';
import { DEFAULT_SAE_TRAIN, geometricMedian, lrAt, trainSae, type SaeTrainOptions } from '../../src/core/sae/trainSae';
import { maxCosines, plantedFeatures, plantedStream } from './synthetic';

/**
 * SAE training on synthetic activations with planted sparse ground truth: 256 random unit directions
 * in 64 dimensions, each active with probability 2% (magnitude 0.5–1.5). A trained SAE should find
 * them: most planted directions have a decoder row at cosine ≥ 0.9. TopK gives exactly k active
 * features; training is deterministic, cancellable, refuses a NaN loss, and leaks no tensors.
 */

const D = 64;
const N_FEAT = 256;
const dirs = plantedFeatures(D, N_FEAT, 1);

beforeAll(async () => {
  await initBackend();
});

const opts = (o: Partial<SaeTrainOptions>): SaeTrainOptions => ({ ...DEFAULT_SAE_TRAIN, dIn: D, expansion: 8, steps: 10, warmupSteps: 50, l1WarmupSteps: 100, deadWindow: 20_000, logEvery: 100, ...o });

function recovered(wDec: Float32Array): number {
  const cos = maxCosines(dirs, wDec, D);
  return cos.filter((c) => c >= 0.9).length / N_FEAT;
}

describe('planted sparse features are recovered', () => {
  it('TopK (k 8, 300 steps of 512) recovers ≥ 80% at cosine ≥ 0.9, and keeps exactly the k largest pre-activations per input', () => {
    const before = tf.memory().numTensors;
    const r = trainSae(plantedStream(dirs, D, 0.02, 2), opts({ architecture: 'topk', k: 8, lr: 6e-3, steps: 300, batchSize: 512 }));
    expect(tf.memory().numTensors).toBe(before);
    expect(r.status).toBe('completed');
    const frac = recovered(r.weights.W_dec.data);
    expect(frac).toBeGreaterThanOrEqual(0.8);
    // Decoder rows of a TopK SAE are unit-norm.
    for (let i = 0; i < 8 * D; i += 37) {
      const row = r.weights.W_dec.data.subarray(i * D, (i + 1) * D);
      expect(Math.sqrt(row.reduce((a, x) => a + x * x, 0))).toBeCloseTo(1, 4);
    }
    const x = plantedStream(dirs, D, 0.02, 99).next(300);
    // Exactly k features are selected (topk's indices, never more on ties); as in SAELens, ReLU follows,
    // so an input with fewer than k positive pre-activations has fewer active features.
    const { active, positive, mask } = tf.tidy(() => {
      const live = liveSae(r.weights);
      const xt = tf.tensor2d(x, [300, D]);
      const pre = preActivations(live, xt, { architecture: 'topk' });
      const out = {
        active: Array.from(encode(live, xt, { architecture: 'topk', k: 8 }).greater(0).sum(1).dataSync()),
        positive: Array.from(pre.greater(0).sum(1).dataSync()),
        mask: Array.from(topkMask(pre, 8).sum(1).dataSync()),
      };
      disposeSae(live);
      return out;
    });
    expect(new Set(mask)).toEqual(new Set([8]));
    active.forEach((a, i) => expect(a).toBe(Math.min(8, positive[i])));
    expect(active.filter((a) => a === 8).length).toBeGreaterThan(250);
    // Ties: a row of equal values still gives exactly k.
    const tied = tf.tidy(() => Array.from(topkMask(tf.ones([3, 40]) as tf.Tensor2D, 5).sum(1).dataSync()));
    expect(tied).toEqual([5, 5, 5]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ReLU + decoder-norm-weighted L1 (λ 2.5, 800 steps of 256) recovers ≥ 80% at cosine ≥ 0.9', () => {
    const before = tf.memory().numTensors;
    const r = trainSae(plantedStream(dirs, D, 0.02, 3), opts({ architecture: 'standard', l1: 2.5, lr: 1.5e-2, steps: 800, batchSize: 256 }));
    expect(tf.memory().numTensors).toBe(before);
    expect(recovered(r.weights.W_dec.data)).toBeGreaterThanOrEqual(0.8);
    const last = r.log[r.log.length - 1];
    expect(last.l0).toBeLessThan(30);
    expect(last.fve).toBeGreaterThan(0.6);
  });
});

describe('training mechanics', () => {
  it('is deterministic for a seed, and another seed gives other weights', () => {
    const run = (seed: number) => trainSae(plantedStream(dirs, D, 0.02, 5), opts({ architecture: 'topk', k: 4, steps: 15, batchSize: 64, seed }));
    const a = run(1);
    const b = run(1);
    const c = run(2);
    expect(Buffer.from(a.weights.W_enc.data.buffer).equals(Buffer.from(b.weights.W_enc.data.buffer))).toBe(true);
    expect(Buffer.from(a.weights.b_dec.data.buffer).equals(Buffer.from(b.weights.b_dec.data.buffer))).toBe(true);
    expect(Buffer.from(a.weights.W_enc.data.buffer).equals(Buffer.from(c.weights.W_enc.data.buffer))).toBe(false);
  });

  it('stops when asked, keeping the weights so far', () => {
    let calls = 0;
    const r = trainSae(plantedStream(dirs, D, 0.02, 5), opts({ architecture: 'standard', steps: 100, batchSize: 32, shouldCancel: () => ++calls > 5 }));
    expect(r.status).toBe('cancelled');
    expect(r.steps).toBe(5);
    expect(r.weights.W_dec.shape).toEqual([8 * D, D]);
  });

  it('a non-finite loss is a clear error (no tensors leaked)', () => {
    const before = tf.memory().numTensors;
    const stream = { dIn: D, next: (n: number) => (stream.calls++ === 0 ? new Float32Array(n * D).fill(0.5) : new Float32Array(n * D).fill(NaN)), calls: 0 };
    expect(() => trainSae(stream, opts({ architecture: 'topk', k: 4, steps: 5, batchSize: 16 }))).toThrow(/SAE training: the loss became NaN at step 2 .*check the activations/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resamples dead ReLU features toward high-loss inputs', () => {
    // Few live directions and a large SAE: many features die and are resampled at 25/50/75%.
    const few = plantedFeatures(D, 8, 4);
    const r = trainSae(plantedStream(few, D, 0.3, 6), opts({ architecture: 'standard', l1: 5, lr: 1e-2, steps: 80, batchSize: 128, deadWindow: 1000 }));
    expect(r.resampled).toBeGreaterThan(0);
  });

  it('TopK: the AuxK loss switches on once features are dead', () => {
    const few = plantedFeatures(D, 8, 4);
    const r = trainSae(plantedStream(few, D, 0.3, 6), opts({ architecture: 'topk', k: 4, lr: 1e-2, steps: 60, batchSize: 128, deadWindow: 1000, logEvery: 10 }));
    const last = r.log[r.log.length - 1];
    expect(last.dead).toBeGreaterThan(0);
    expect(last.auxLoss).toBeGreaterThan(0);
    const never = trainSae(plantedStream(few, D, 0.3, 6), opts({ architecture: 'topk', k: 4, lr: 1e-2, steps: 20, batchSize: 128, deadWindow: 1e9, logEvery: 10 }));
    expect(never.log.map((p) => p.auxLoss)).toEqual([0, 0]);
  });

  it('checks its options', () => {
    const s = arrayStream(new Float32Array(10 * D), D, 0);
    expect(() => trainSae(s, opts({ architecture: 'topk', k: 0 }))).toThrow(/k must be an integer in 1\.\.d_sae/);
    expect(() => trainSae(s, opts({ lr: 0 }))).toThrow(/learning rate must be > 0/);
    expect(() => trainSae(s, opts({ dIn: D + 1 }))).toThrow(/d_in 64, the options say 65/);
  });

  it('learning-rate schedule: linear warm-up, constant, linear decay over the last 20%', () => {
    const o = { lr: 1, warmupSteps: 10, steps: 100 };
    expect(lrAt(5, o)).toBeCloseTo(0.5);
    expect(lrAt(50, o)).toBe(1);
    expect(lrAt(100, o)).toBeCloseTo(1 / 20);
  });

  it('geometric median resists an outlier, unlike the mean', () => {
    const x = new Float32Array([0, 0, 1, 0, 0, 1, 1, 1, 100, 100]);
    const m = geometricMedian(x, 5, 2);
    expect(m[0]).toBeLessThan(1.5);
    expect(m[1]).toBeLessThan(1.5);
  });

  it('the shuffle buffer returns every row it was given, mixed', () => {
    let next = 0;
    const buf = new ShuffleBuffer(1, 16, () => Float32Array.from({ length: 4 }, () => next++), 0);
    const out = Array.from(buf.next(64));
    expect(new Set(out).size).toBe(64);
    expect(out.slice(0, 8)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
