import * as tf from '@tensorflow/tfjs';

/**
 * tf.tidy for a function that returns host data (numbers, typed arrays, nested arrays), never tensors.
 * tf.tidy scans its result for tensors key by key and records every value it meets in a Set: on a real
 * model's logits ([T, 50257] floats) that scan alone took seconds per forward and grew the JS heap by
 * gigabytes. The result is handed out past tidy instead, so nothing is scanned; every tensor made inside
 * is disposed, as with tf.tidy.
 */
export function tidyHost<R>(fn: () => R): R {
  let out: { value: R } | undefined;
  tf.tidy(() => {
    out = { value: fn() };
  });
  return (out as { value: R }).value;
}
