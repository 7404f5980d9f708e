import * as tf from '@tensorflow/tfjs';
import type { Metrics, ModelConfig } from '../../shared/modelConfig';
import { forward, type Intervention, type Params } from '../model/forward';
import { chunkByLength, maskedPositions, textBatch, type EncodedExample, type TextBatch } from './textBatches';

/** What a text fine-tune adds to the base model: an unmerged LoRA and/or interventions built per batch. */
export interface TextAdaptation {
  params: Params;
  adapter?: Params;
  /** Interventions for a batch whose completion mask is `mask` [B, T]. */
  interventions?(mask: tf.Tensor2D): Intervention[];
}

/** The batch's tensors: inputs, the completion mask, and the flat positions and targets the loss reads. */
export function batchInputs(b: TextBatch): { tokens: tf.Tensor2D; mask: tf.Tensor2D; at: tf.Tensor1D; targets: tf.Tensor1D } {
  const at = maskedPositions(b);
  return {
    tokens: tf.tensor2d(b.tokens, [b.batch, b.seqLen], 'int32'),
    mask: tf.tensor2d(b.mask, [b.batch, b.seqLen]),
    at: tf.tensor1d(at, 'int32'),
    targets: tf.tensor1d(Int32Array.from(at, (i) => b.targets[i]), 'int32'),
  };
}

/** Log-probabilities [N, V] of the completion positions of a batch. */
function completionLogProbs(c: ModelConfig, a: TextAdaptation, b: TextBatch): { lp: tf.Tensor2D; targets: tf.Tensor1D } {
  const { tokens, mask, at, targets } = batchInputs(b);
  const { logits } = forward(c, a.params, tokens, { adapter: a.adapter, interventions: a.interventions?.(mask), readoutAt: at });
  return { lp: tf.logSoftmax(logits.reshape([at.shape[0], c.dVocab])) as tf.Tensor2D, targets };
}

/** Mean cross-entropy over the completion tokens of the batch (prompt tokens carry no loss). */
export function completionLoss(c: ModelConfig, a: TextAdaptation, b: TextBatch): tf.Scalar {
  const { lp, targets } = completionLogProbs(c, a, b);
  return tf.oneHot(targets, c.dVocab).mul(lp).sum().div(-targets.shape[0]) as tf.Scalar;
}

/**
 * Per label: `${label}_acc`, the share of examples whose every completion token is the argmax given the
 * true tokens before it (teacher-forced exact match: for a one-token answer, the toy tasks' accuracy),
 * and `${label}_loss`, the mean completion cross-entropy per token. Sequences run in length-sorted
 * chunks of `chunk` rows.
 */
export function evaluateText(c: ModelConfig, a: TextAdaptation, rows: readonly EncodedExample[], chunk = 32): Metrics {
  const hits = new Map<string, { n: number; correct: number; nll: number; tokens: number }>();
  for (const part of chunkByLength(rows, chunk)) {
    const b = textBatch(part);
    const [right, nll] = tf.tidy(() => {
      const { lp, targets } = completionLogProbs(c, a, b);
      return [lp.argMax(-1).equal(targets).dataSync(), tf.oneHot(targets, c.dVocab).mul(lp).sum(-1).neg().dataSync()];
    });
    // Masked positions come in row order: each row's completion tokens are consecutive.
    let k = 0;
    part.forEach((r) => {
      const n = r.ids.length - r.promptLen;
      let ok = true;
      let sum = 0;
      for (let j = 0; j < n; j++, k++) {
        ok &&= right[k] === 1;
        sum += nll[k];
      }
      const h = hits.get(r.label) ?? { n: 0, correct: 0, nll: 0, tokens: 0 };
      h.n += 1;
      h.correct += ok ? 1 : 0;
      h.nll += sum;
      h.tokens += n;
      hits.set(r.label, h);
    });
  }
  const m: Metrics = {};
  for (const [label, h] of [...hits].sort(([x], [y]) => x.localeCompare(y))) {
    m[`${label}_acc`] = h.correct / h.n;
    m[`${label}_loss`] = h.nll / h.tokens;
  }
  return m;
}

/** Mean of the `_acc` metrics of the given labels (each label counts once, whatever its size). */
export function meanAccuracy(m: Metrics, labels: readonly string[]): number {
  const accs = labels.map((l) => m[`${l}_acc`]).filter((x): x is number => x !== undefined);
  return accs.length ? accs.reduce((s, x) => s + x, 0) / accs.length : NaN;
}
