import * as tf from '@tensorflow/tfjs';
import { ApiArgumentError } from '../../shared/errors';
import { forward, type Params } from '../model/forward';
import type { HostTensor } from '../model/params';
import { parsePrompt, type OpenedRun } from '../runs/openRun';
import { Rng } from '../util/rng';

/** Helpers the runners share: live weights, prompts and token names of an opened run. */

export function liveParams(host: Record<string, HostTensor>): Params {
  const p: Params = {};
  for (const [k, h] of Object.entries(host)) p[k] = tf.tensor(h.data, h.shape);
  return p;
}

/** Runs `fn` with the run's weights as tensors, disposed afterwards. */
export function withParams<T>(run: OpenedRun, fn: (p: Params) => T): T {
  const params = liveParams(run.params);
  try {
    return fn(params);
  } finally {
    Object.values(params).forEach((t) => t.dispose());
  }
}

/** The given prompt, or the first prompt of the task's last eval split (a held-out one). */
export function promptOf(run: OpenedRun, text: string | undefined): number[] {
  if (text) return parsePrompt(run.vocab, text, run.config.nCtx);
  if (!run.task) throw new ApiArgumentError('no prompt given and the run’s task cannot supply one');
  const sets = run.task.evalSets(new Rng(0), 1);
  const set = sets[sets.length - 1];
  return Array.from(set.tokens.subarray(0, set.seqLen));
}

export function topPrediction(run: OpenedRun, params: Params, tokens: number[]): number {
  return tf.tidy(() => forward(run.config, params, tf.tensor2d([tokens], [1, tokens.length], 'int32')).logits.slice([0, tokens.length - 1, 0], [1, 1, -1]).argMax(-1).dataSync()[0]);
}

export function tokenId(run: OpenedRun, name: string, what: string): number {
  const i = run.vocab.indexOf(name);
  if (i < 0) throw new ApiArgumentError(`${what}: unknown token '${name}'`);
  return i;
}

export function tokenNames(run: OpenedRun, ids: readonly number[]): string[] {
  return ids.map((t) => run.vocab[t]);
}
