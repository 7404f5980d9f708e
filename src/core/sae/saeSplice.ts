import * as tf from '@tensorflow/tfjs';
import type { HookName } from '../../shared/hooks';
import { forward, type Intervention } from '../model/forward';
import { batchTokens, hookTensor } from './hookActivations';
import type { PromptBatch } from './promptSource';
import type { Sae } from './saeConfig';
import { decode, encode, type LiveSae, type SaeShape } from './saeModel';
import type { SaeSubject } from './saeSubject';

/**
 * Running the model with the SAE at its hook. The forward pass takes interventions as plain arguments
 * (an added vector or a replacement tensor, src/core/model/forward.ts), not callbacks, so an edit that
 * depends on the activation itself takes two passes: one that caches the hook (with any earlier
 * interventions applied), then one that replaces it. The hook's value depends only on what comes before
 * it, so the second pass sees exactly the activation the SAE was given.
 */

export function saeShape(sae: Sae): SaeShape {
  return { architecture: sae.cfg.architecture, k: sae.cfg.k, applyBDecToInput: sae.cfg.apply_b_dec_to_input };
}

/** The loss the batch defines and its accuracy: the task's answer at T − 1, or next-token prediction. */
export interface LossSums {
  lossSum: number;
  correct: number;
  count: number;
}

/** Sums of the batch's cross-entropy and hits from logits [B, T, V]. Call inside tf.tidy. */
export function lossFromLogits(b: PromptBatch, logits: tf.Tensor3D): LossSums {
  const V = logits.shape[2];
  if (b.targets) {
    const last = logits.slice([0, b.T - 1, 0], [b.B, 1, V]).reshape([b.B, V]) as tf.Tensor2D;
    const targets = tf.tensor1d(b.targets, 'int32');
    const lossSum = tf.oneHot(targets, V).mul(tf.logSoftmax(last)).sum().neg().dataSync()[0];
    const correct = last.argMax(-1).equal(targets).sum().dataSync()[0];
    return { lossSum, correct, count: b.B };
  }
  const rows: number[] = [];
  const next: number[] = [];
  for (let i = 0; i < b.B; i++) {
    for (let t = 0; t + 1 < b.lengths[i]; t++) {
      rows.push(i * b.T + t);
      next.push(b.tokens[i * b.T + t + 1]);
    }
  }
  if (!rows.length) return { lossSum: 0, correct: 0, count: 0 };
  const flat = tf.gather(logits.reshape([b.B * b.T, V]), tf.tensor1d(Int32Array.from(rows), 'int32')) as tf.Tensor2D;
  const targets = tf.tensor1d(Int32Array.from(next), 'int32');
  const lossSum = tf.oneHot(targets, V).mul(tf.logSoftmax(flat)).sum().neg().dataSync()[0];
  const correct = flat.argMax(-1).equal(targets).sum().dataSync()[0];
  return { lossSum, correct, count: rows.length };
}

export function batchLoss(subject: SaeSubject, b: PromptBatch, interventions?: readonly Intervention[]): LossSums {
  let out: LossSums = { lossSum: 0, correct: 0, count: 0 };
  tf.tidy(() => {
    out = lossFromLogits(b, forward(subject.config, subject.params, batchTokens(b), { interventions }).logits);
  });
  return out;
}

/** What to do at the hook in the second pass. */
export type SaeEdit =
  /** Replace the activation with the SAE's reconstruction. */
  | { kind: 'splice' }
  /** Replace it with zeros (the zero-ablation baseline). */
  | { kind: 'zero' }
  /** Subtract the listed features' contributions f_i·W_dec,i, keeping the SAE's error term. */
  | { kind: 'ablate'; features: readonly number[] }
  /** Set the listed features to `value` (their contributions move by (value − f_i)·W_dec,i). */
  | { kind: 'clamp'; features: readonly number[]; value: number };

/**
 * The intervention that applies `edit` at the SAE's hook for this batch (after `before`, the
 * interventions already in force). Call inside tf.tidy; the returned tensors belong to that scope.
 */
export function saeIntervention(subject: SaeSubject, live: LiveSae, sae: Sae, b: PromptBatch, edit: SaeEdit, before: readonly Intervention[] = []): Intervention {
  const hook = sae.cfg.hook_name as HookName;
  const full = hookTensor(subject, b, hook, before);
  const fullShape = full.shape;
  const x = full.reshape([b.B * b.T, -1]) as tf.Tensor2D;
  if (x.shape[1] !== sae.cfg.d_in) throw new Error(`the SAE reads d_in ${sae.cfg.d_in} but ${hook} has width ${x.shape[1]} on this model`);
  if (edit.kind === 'zero') return { hook, kind: 'replace', value: tf.zeros(fullShape) };
  const shape = saeShape(sae);
  const f = encode(live, x, shape);
  if (edit.kind === 'splice') return { hook, kind: 'replace', value: decode(live, f).reshape(fullShape) };
  const mask = new Float32Array(sae.cfg.d_sae);
  for (const i of edit.features) {
    if (!Number.isInteger(i) || i < 0 || i >= sae.cfg.d_sae) throw new Error(`feature ${i} outside 0..${sae.cfg.d_sae - 1}`);
    mask[i] = 1;
  }
  const m = tf.tensor1d(mask);
  const delta = edit.kind === 'ablate' ? f.mul(m).neg() : f.mul(m).neg().add(m.mul(edit.value));
  return { hook, kind: 'add', value: delta.matMul(live.W_dec).reshape(fullShape) };
}

/** Loss and accuracy over batches with the SAE edit at the hook (and `before` applied first). */
export function editedLoss(subject: SaeSubject, live: LiveSae, sae: Sae, batches: readonly PromptBatch[], edit: SaeEdit | null, before: readonly Intervention[] = []): { loss: number; acc: number; count: number } {
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for (const b of batches) {
    tf.tidy(() => {
      const ivs = edit ? [...before, saeIntervention(subject, live, sae, b, edit, before)] : [...before];
      const r = lossFromLogits(b, forward(subject.config, subject.params, batchTokens(b), { interventions: ivs }).logits);
      lossSum += r.lossSum;
      correct += r.correct;
      count += r.count;
    });
  }
  return { loss: count ? lossSum / count : NaN, acc: count ? correct / count : NaN, count };
}
