import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { Rng } from '../../src/core/util/rng';

/**
 * Sum's and Mean's gradients broadcast dy instead of multiplying it by a tensor of ones
 * (src/core/backend/exactGradients.ts): the same bits as tfjs's own formula, written out here.
 */

function values(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = Float32Array.from({ length: n }, () => (rng.next() - 0.5) * Math.pow(10, 6 * rng.next() - 3));
  v[0] = -0;
  return v;
}

beforeAll(async () => {
  await initBackend();
});

const cases: { shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
  { shape: [128, 16, 256], axis: -1, keepDims: true },
  { shape: [128, 16, 256], axis: [0, 1] },
  { shape: [7, 5], axis: 0 },
  { shape: [3, 4, 5], axis: [2, 0] },
  { shape: [6], axis: 0 },
];

describe('Sum and Mean gradients', () => {
  for (const c of cases) {
    it(`[${c.shape}] over ${JSON.stringify(c.axis)}${c.keepDims ? ', keepDims' : ''}: tfjs's bits (dy · ones, divided by the count for Mean)`, () => {
      tf.tidy(() => {
        const n = c.shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(values(n, 1), c.shape);
        const outShape = tf.sum(x, c.axis, c.keepDims).shape;
        const dy = tf.tensor(values(outShape.reduce((a, b) => a * b, 1), 2), outShape);
        const expanded = x.shape.slice();
        for (const a of tf.util.parseAxisParam(c.axis, x.shape)) expanded[a] = 1;
        const count = n / expanded.reduce((a, b) => a * b, 1);
        const tfjsSum = dy.reshape(expanded).mul(tf.ones(x.shape, 'float32'));
        const tfjsMean = tfjsSum.div(count);
        const sumGrad = tf.grad((t: tf.Tensor) => tf.sum(t, c.axis, c.keepDims))(x, dy);
        const meanGrad = tf.grad((t: tf.Tensor) => tf.mean(t, c.axis, c.keepDims))(x, dy);
        expect(sumGrad.shape).toEqual(x.shape);
        expect(sumGrad.dataSync()).toEqual(tfjsSum.dataSync());
        expect(meanGrad.dataSync()).toEqual(tfjsMean.dataSync());
        expect(Object.is(sumGrad.dataSync()[0], -0)).toBe(Object.is(tfjsSum.dataSync()[0], -0));
      });
    });
  }
});
