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

/** Accuracy (argmax over the whole vocabulary) and loss per eval set, in chunks to bound memory. */
export function evaluateSets(c: ModelConfig, params: Params, sets: readonly EvalSet[], chunk = 1024, interventions?: readonly Intervention[]): Metrics {
  const metrics: Metrics = {};
  for (const set of sets) {
    let correct = 0;
    let lossSum = 0;
    for (let start = 0; start < set.batch; start += chunk) {
      const n = Math.min(chunk, set.batch - start);
      const [hits, loss] = tf.tidy(() => {
        const tokens = tf.tensor2d(set.tokens.subarray(start * set.seqLen, (start + n) * set.seqLen), [n, set.seqLen], 'int32');
        const targets = tf.tensor1d(set.targets.subarray(start, start + n), 'int32');
        const logits = forward(c, params, tokens, { readout: 'last', interventions }).logits.reshape([n, c.dVocab]);
        const hit = logits.argMax(-1).equal(targets).sum();
        const l = tf.oneHot(targets, c.dVocab).mul(tf.logSoftmax(logits)).sum().neg();
        return [hit.dataSync()[0], l.dataSync()[0]];
      });
      correct += hits;
      lossSum += loss;
    }
    metrics[`${set.name}_acc`] = correct / set.batch;
    metrics[`${set.name}_loss`] = lossSum / set.batch;
  }
  return metrics;
}
