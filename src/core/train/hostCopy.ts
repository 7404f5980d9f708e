import type * as tf from '@tensorflow/tfjs';
import type { HostTensor } from '../model/params';

/**
 * Host copies of tensors, read asynchronously (`await data()`, all at once): what the training path
 * saves. The values are those dataSync gives on every backend; on webgpu it is the only read Node has.
 */
export async function hostCopies(tensors: readonly tf.Tensor[]): Promise<HostTensor[]> {
  const data = await Promise.all(tensors.map((t) => t.data()));
  return tensors.map((t, i) => ({ shape: t.shape.slice(), data: data[i] as Float32Array }));
}

/** Host copies of named tensors (a model's parameters), as toHost gives them but read asynchronously. */
export async function namedHostCopies(named: Record<string, tf.Tensor>): Promise<Record<string, HostTensor>> {
  const names = Object.keys(named);
  const host = await hostCopies(names.map((n) => named[n]));
  return Object.fromEntries(names.map((n, i) => [n, host[i]]));
}
