import * as tf from '@tensorflow/tfjs';
import type { HookName } from '../../shared/hooks';
import { forward } from '../model/forward';
import { batchTokens, validPositions } from './hookActivations';
import type { PromptBatch } from './promptSource';
import type { Sae } from './saeConfig';
import { decode, encode, liveSae, disposeSae } from './saeModel';
import { lossFromLogits, saeShape } from './saeSplice';
import type { SaeSubject } from './saeSubject';

/**
 * An SAE's quality on fixed evaluation prompts: sparsity (L0), reconstruction (fraction of variance
 * explained), dead and dense features, the feature density histogram, and the model's loss with the
 * reconstruction spliced in at the hook, against the clean loss and zero ablation.
 */
export interface SaeEvalMetrics {
  nTokens: number;
  /** Mean number of active features per token. */
  l0: number;
  /** 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖². */
  fve: number;
  /** Mean ‖x − x̂‖² per token. */
  mse: number;
  /** Features that never fired on the nTokens evaluation tokens. */
  dead: number;
  deadFraction: number;
  /** Features firing on more than DENSE_THRESHOLD of tokens. */
  dense: number;
  denseThreshold: number;
  /** Per feature: the fraction of evaluation tokens it fired on. */
  density: number[];
  /** Counts of live features by log10 density, bins of DENSITY_BIN_WIDTH from DENSITY_BIN_MIN to 0. */
  densityHistogram: { log10From: number; log10To: number; count: number }[];
  cleanLoss: number;
  splicedLoss: number;
  zeroAblationLoss: number;
  /** splicedLoss − cleanLoss. */
  lossIncrease: number;
  /** (zero − spliced) / (zero − clean): 1 = as good as the clean model, 0 = as bad as zero ablation. */
  lossRecovered: number;
  cleanAcc: number;
  splicedAcc: number;
  zeroAblationAcc: number;
}

export const DENSE_THRESHOLD = 0.1;
export const DENSITY_BIN_MIN = -6;
export const DENSITY_BIN_WIDTH = 0.5;

export function densityHistogram(density: readonly number[]): SaeEvalMetrics['densityHistogram'] {
  const bins: SaeEvalMetrics['densityHistogram'] = [];
  for (let lo = DENSITY_BIN_MIN; lo < 0; lo += DENSITY_BIN_WIDTH) bins.push({ log10From: lo, log10To: lo + DENSITY_BIN_WIDTH, count: 0 });
  for (const p of density) {
    if (p <= 0) continue;
    const i = Math.min(bins.length - 1, Math.max(0, Math.floor((Math.log10(p) - DENSITY_BIN_MIN) / DENSITY_BIN_WIDTH)));
    bins[i].count += 1;
  }
  return bins;
}

export function evaluateSae(subject: SaeSubject, sae: Sae, batches: readonly PromptBatch[]): SaeEvalMetrics {
  const hook = sae.cfg.hook_name as HookName;
  const shape = saeShape(sae);
  const d = sae.cfg.d_in;
  const live = liveSae(sae.weights);
  const fired = new Float64Array(sae.cfg.d_sae);
  const sumX = new Float64Array(d);
  let sumSq = 0;
  let errSq = 0;
  let l0Sum = 0;
  let nTokens = 0;
  const sums = { clean: [0, 0, 0], spliced: [0, 0, 0], zero: [0, 0, 0] };
  const add = (key: keyof typeof sums, r: { lossSum: number; correct: number; count: number }): void => {
    sums[key][0] += r.lossSum;
    sums[key][1] += r.correct;
    sums[key][2] += r.count;
  };
  try {
    for (const b of batches) {
      tf.tidy(() => {
        const tokens = batchTokens(b);
        const clean = forward(subject.config, subject.params, tokens, { cache: [hook] });
        const full = clean.cache[hook];
        if (!full) throw new Error(`hook '${hook}' was not reached by the forward pass of this model`);
        const x = full.reshape([b.B * b.T, -1]) as tf.Tensor2D;
        if (x.shape[1] !== d) throw new Error(`the SAE reads d_in ${d} but ${hook} has width ${x.shape[1]} on this model`);
        add('clean', lossFromLogits(b, clean.logits));
        const f = encode(live, x, shape);
        const xh = decode(live, f);
        add('spliced', lossFromLogits(b, forward(subject.config, subject.params, tokens, { interventions: [{ hook, kind: 'replace', value: xh.reshape(full.shape) }] }).logits));
        add('zero', lossFromLogits(b, forward(subject.config, subject.params, tokens, { interventions: [{ hook, kind: 'replace', value: tf.zerosLike(full) }] }).logits));
        const pos = tf.tensor1d(validPositions(b), 'int32');
        const xv = tf.gather(x, pos);
        const fv = tf.gather(f, pos);
        const on = fv.greater(0).toFloat();
        const firedNow = on.sum(0).dataSync();
        for (let i = 0; i < firedNow.length; i++) fired[i] += firedNow[i];
        l0Sum += on.sum().dataSync()[0];
        const sx = xv.sum(0).dataSync();
        for (let j = 0; j < d; j++) sumX[j] += sx[j];
        sumSq += xv.square().sum().dataSync()[0];
        errSq += tf.gather(xh, pos).sub(xv).square().sum().dataSync()[0];
        nTokens += pos.shape[0];
      });
    }
  } finally {
    disposeSae(live);
  }
  const meanSq = sumX.reduce((a, v) => a + v * v, 0) / Math.max(nTokens, 1);
  const variance = sumSq - meanSq;
  const density = Array.from(fired, (c) => c / Math.max(nTokens, 1));
  const dead = density.filter((p) => p === 0).length;
  const mean = (k: keyof typeof sums, i: 0 | 1): number => sums[k][i] / Math.max(sums[k][2], 1);
  const clean = mean('clean', 0);
  const spliced = mean('spliced', 0);
  const zero = mean('zero', 0);
  return {
    nTokens,
    l0: l0Sum / Math.max(nTokens, 1),
    fve: variance > 0 ? 1 - errSq / variance : NaN,
    mse: errSq / Math.max(nTokens, 1),
    dead,
    deadFraction: dead / sae.cfg.d_sae,
    dense: density.filter((p) => p > DENSE_THRESHOLD).length,
    denseThreshold: DENSE_THRESHOLD,
    density,
    densityHistogram: densityHistogram(density),
    cleanLoss: clean,
    splicedLoss: spliced,
    zeroAblationLoss: zero,
    lossIncrease: spliced - clean,
    lossRecovered: zero !== clean ? (zero - spliced) / (zero - clean) : NaN,
    cleanAcc: mean('clean', 1),
    splicedAcc: mean('spliced', 1),
    zeroAblationAcc: mean('zero', 1),
  };
}
