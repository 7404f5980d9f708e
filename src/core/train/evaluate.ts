import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../shared/modelConfig';
import type { Metrics } from '../../shared/modelConfig';
import type { EvalSet, TokenBatch } from '../tasks/taskTypes';
import { forward, type Intervention, type Params } from '../model/forward';

/** Mean cross-entropy of the logits read at the last position. Returns a scalar tensor. */
export function lastTokenLoss(c: ModelConfig, params: Params, tokens: tf.Tensor2D, targets: tf.Tensor1D, interventions?: readonly Intervention[]): tf.Scalar {
  const { logits } = forward(c, params, tokens, { readout: 'last', interventions });
  const B = tokens.shape[0];
  const lp = tf.logSoftmax(logits.reshape([B, c.dVocab]));
  return tf.oneHot(targets, c.dVocab).mul(lp).sum().div(-B) as tf.Scalar;
}

export function batchTensors(b: TokenBatch): { tokens: tf.Tensor2D; targets: tf.Tensor1D } {
  return { tokens: tf.tensor2d(b.tokens, [b.batch, b.seqLen], 'int32'), targets: tf.tensor1d(b.targets, 'int32') };
}

/** One chunk of an eval set: its correct-answer count (int32) and summed loss (float32), as scalar tensors. */
function chunkScores(c: ModelConfig, params: Params, set: EvalSet, start: number, n: number, interventions?: readonly Intervention[]): [tf.Scalar, tf.Scalar] {
  const tokens = tf.tensor2d(set.tokens.subarray(start * set.seqLen, (start + n) * set.seqLen), [n, set.seqLen], 'int32');
  const targets = tf.tensor1d(set.targets.subarray(start, start + n), 'int32');
  const logits = forward(c, params, tokens, { readout: 'last', interventions }).logits.reshape([n, c.dVocab]);
  const hit = logits.argMax(-1).equal(targets).sum() as tf.Scalar;
  const l = tf.oneHot(targets, c.dVocab).mul(tf.logSoftmax(logits)).sum().neg() as tf.Scalar;
  return [hit, l];
}

/**
 * The evaluation as a generator: it yields each chunk's [hits, loss] scalars, is sent back their values
 * (read synchronously or not, by the caller), frees them, and returns the metrics.
 */
function* evaluation(c: ModelConfig, params: Params, sets: readonly EvalSet[], chunk: number, interventions?: readonly Intervention[]): Generator<tf.Scalar[], Metrics, number[]> {
  const metrics: Metrics = {};
  for (const set of sets) {
    let correct = 0;
    let lossSum = 0;
    for (let start = 0; start < set.batch; start += chunk) {
      const n = Math.min(chunk, set.batch - start);
      const scores = tf.tidy(() => chunkScores(c, params, set, start, n, interventions));
      try {
        const [hits, loss] = yield scores;
        correct += hits;
        lossSum += loss;
      } finally {
        tf.dispose(scores);
      }
    }
    metrics[`${set.name}_acc`] = correct / set.batch;
    metrics[`${set.name}_loss`] = lossSum / set.batch;
  }
  return metrics;
}

/** Accuracy (argmax over the whole vocabulary) and loss per eval set, in chunks to bound memory. */
export function evaluateSets(c: ModelConfig, params: Params, sets: readonly EvalSet[], chunk = 1024, interventions?: readonly Intervention[]): Metrics {
  const run = evaluation(c, params, sets, chunk, interventions);
  try {
    let step = run.next();
    while (!step.done) step = run.next(step.value.map((t) => t.dataSync()[0]));
    return step.value;
  } finally {
    run.return({}); // a failed read: the generator's finally frees that chunk's scores
  }
}

/**
 * evaluateSets with asynchronous reads (`await data()`), as the training loop runs it: the same numbers
 * on every backend, and the only kind of read the webgpu backend can do in Node.
 */
export async function evaluateSetsAsync(c: ModelConfig, params: Params, sets: readonly EvalSet[], chunk = 1024, interventions?: readonly Intervention[]): Promise<Metrics> {
  const run = evaluation(c, params, sets, chunk, interventions);
  try {
    let step = run.next();
    while (!step.done) step = run.next(await Promise.all(step.value.map(async (t) => (await t.data())[0])));
    return step.value;
  } finally {
    run.return({}); // a failed read: the generator's finally frees that chunk's scores
  }
}
