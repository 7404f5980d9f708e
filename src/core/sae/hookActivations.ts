import * as tf from '@tensorflow/tfjs';
import type { HookName } from '../../shared/hooks';
import { forward, type Intervention } from '../model/forward';
import { tidyHost } from '../util/tidyHost';
import { ShuffleBuffer, type ActivationStream } from './activationStream';
import type { PromptBatch, PromptSource } from './promptSource';
import type { SaeSubject } from './saeSubject';

/**
 * Activations of one hook over prompt batches, as rows of d_in floats: every valid (unpadded) position
 * of every prompt. Hooks with per-head trailing dims ([B, T, H, d]) are flattened to d_in = H·d, as
 * SAELens does for hook_z.
 */

export function batchTokens(b: PromptBatch): tf.Tensor2D {
  return tf.tensor2d(b.tokens, [b.B, b.T], 'int32');
}

/** Flat indices b·T + t of the valid positions. */
export function validPositions(b: PromptBatch): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < b.B; i++) for (let t = 0; t < b.lengths[i]; t++) out.push(i * b.T + t);
  return Int32Array.from(out);
}

/** The hook's activation [B·T, d_in] (all positions, padded ones included). Call inside tf.tidy. */
export function hookMatrix(subject: SaeSubject, b: PromptBatch, hook: HookName, interventions?: readonly Intervention[]): tf.Tensor2D {
  return hookTensor(subject, b, hook, interventions).reshape([b.B * b.T, -1]) as tf.Tensor2D;
}

/** The hook's activation in its own shape [B, T, ...]. Call inside tf.tidy. */
export function hookTensor(subject: SaeSubject, b: PromptBatch, hook: HookName, interventions?: readonly Intervention[]): tf.Tensor {
  const { cache } = forward(subject.config, subject.params, batchTokens(b), { cache: [hook], interventions });
  const a = cache[hook];
  if (!a) throw new Error(`hook '${hook}' was not reached by the forward pass of this model`);
  return a;
}

/** Rows of the valid positions, on the host. */
export function hookRows(subject: SaeSubject, b: PromptBatch, hook: HookName, interventions?: readonly Intervention[]): { rows: Float32Array; dIn: number; positions: Int32Array } {
  const positions = validPositions(b);
  return tidyHost(() => {
    const m = hookMatrix(subject, b, hook, interventions);
    const rows = tf.gather(m, tf.tensor1d(positions, 'int32')).dataSync() as Float32Array;
    return { rows, dIn: m.shape[1], positions };
  });
}

/** The hook's width (d_in) on this model. */
export function hookWidth(subject: SaeSubject, hook: HookName): number {
  const T = Math.min(2, subject.config.nCtx);
  const b: PromptBatch = { tokens: new Int32Array(T), B: 1, T, lengths: Int32Array.of(T) };
  return hookRows(subject, b, hook).dIn;
}

/**
 * A shuffled stream of the hook's activations over `source`'s prompts: model batches are computed as the
 * buffer empties, so only `bufferRows` activations are held at a time.
 */
export function hookStream(subject: SaeSubject, source: PromptSource, hook: HookName, seed: number, bufferRows: number): ActivationStream & { tokensRead(): number } {
  const dIn = hookWidth(subject, hook);
  let read = 0;
  const buf = new ShuffleBuffer(dIn, bufferRows, () => {
    const { rows } = hookRows(subject, source.next(), hook);
    read += rows.length / dIn;
    return rows;
  }, seed);
  return { dIn, next: (n) => buf.next(n), tokensRead: () => read };
}

/** Refuses an SAE whose d_in is not its hook's width on this model (an SAE of another model or hook). */
export function checkSaeFits(subject: SaeSubject, hook: HookName, dIn: number, what: string): void {
  const width = hookWidth(subject, hook);
  if (width !== dIn) throw new Error(`${what} reads d_in ${dIn} but ${hook} of ${subject.id} has width ${width}: an SAE of another model or hook`);
}
