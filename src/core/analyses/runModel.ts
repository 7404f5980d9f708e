import * as tf from '@tensorflow/tfjs';
import { forward, type Params } from '../model/forward';
import type { AnalysisModel } from './target';

/** Helpers the runners share: prompts, predictions and token labels of an opened model. */

/** The prompt given (as the model reads prompts: token names or text), or the model's default one. */
export function promptOf(m: AnalysisModel, text: string | undefined, what = 'prompt'): number[] {
  return text ? m.encode(text, what) : m.defaultPrompt();
}

export function topPrediction(m: AnalysisModel, params: Params, tokens: number[]): number {
  return tf.tidy(() => {
    const ids = tf.tensor2d([tokens], [1, tokens.length], 'int32');
    // A model folder reads out the last position only (its last block at one query); runs keep the
    // full pass they always made, so their defaults do not move.
    if (m.source === 'model') return forward(m.config, params, ids, { readout: 'last' }).logits.argMax(-1).dataSync()[0];
    return forward(m.config, params, ids).logits.slice([0, tokens.length - 1, 0], [1, 1, -1]).argMax(-1).dataSync()[0];
  });
}

export function tokenNames(m: AnalysisModel, ids: readonly number[]): string[] {
  const vocab = m.vocab;
  return ids.map((t) => vocab[t]);
}

