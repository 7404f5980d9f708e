import * as tf from '@tensorflow/tfjs';
import {
  checkPosition,
  checkPrompts,
  checkToken,
  type HeadPatchingResult,
  type PatchResult,
  type ResidualPatchingResult,
} from '../../shared/analysis';
import { hookName, parseHookName, type HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import { forward, type Params } from '../model/forward';
import { promptTensor } from './attention';
import { ApiArgumentError } from '../../shared/errors';

/**
 * Activation patching (denoising): run the corrupted prompt, but with some activation replaced by its
 * value on the clean prompt, and measure how much of the clean answer comes back:
 *
 *   metric = (LD_patched − LD_corrupted) / (LD_clean − LD_corrupted),  LD = logit(answer) − logit(wrong)
 *
 * at the last position. 1 = the patch restores the clean behaviour, 0 = it changes nothing. Patches use
 * forward's `replace` intervention; the sweeps run one forward pass per layer, with one batch row per
 * patch (the replacement holds the clean value in that row's patched slot and the corrupted value
 * everywhere else, which is what the corrupted run computes there: nothing upstream of a hook changes).
 */

/** One activation to patch: the clean value of `hook`, at `positions` (default all). */
export interface PatchSpec {
  hook: HookName;
  positions?: readonly number[];
}

/** Checks a clean/corrupted pair and its answer tokens; returns the sequence length. */
function checkPair(c: ModelConfig, clean: readonly number[], corrupted: readonly number[], answer: number, wrong: number, what: string): number {
  if (!Array.isArray(clean) || !Array.isArray(corrupted)) throw new ApiArgumentError(`${what}: clean and corrupted must be token arrays`);
  if (clean.length !== corrupted.length) {
    throw new ApiArgumentError(`${what}: clean (${clean.length} tokens) and corrupted (${corrupted.length} tokens) prompts must have equal length`);
  }
  checkPrompts(c, [clean], `${what} clean`);
  checkPrompts(c, [corrupted], `${what} corrupted`);
  checkToken(c, answer, `${what} answer`);
  checkToken(c, wrong, `${what} wrong`);
  if (answer === wrong) throw new ApiArgumentError(`${what}: answer and wrong are the same token (${answer}); the logit difference would be 0`);
  return clean.length;
}

/** logit(answer) − logit(wrong) at the last position, per batch row: [B, T, V] → [B]. */
function logitDiff(logits: tf.Tensor3D, answer: number, wrong: number): tf.Tensor1D {
  const [B, T, V] = logits.shape;
  const last = logits.slice([0, T - 1, 0], [B, 1, V]).reshape([B, V]);
  return last.slice([0, answer], [B, 1]).sub(last.slice([0, wrong], [B, 1])).reshape([B]);
}

/** The corrupted value with the clean one wherever mask is 1: corrupted [1, …] and clean [1, …], mask [N, …]. */
function mix(corrupted: tf.Tensor, clean: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return corrupted.mul(tf.scalar(1).sub(mask)).add(clean.mul(mask));
}

function normaliser(what: string, ldClean: number, ldCorrupted: number): (ld: number) => number {
  const span = ldClean - ldCorrupted;
  if (span === 0 || !Number.isFinite(span)) {
    throw new ApiArgumentError(`${what}: clean and corrupted prompts give the same logit difference (${ldClean}); the patching metric is undefined`);
  }
  return (ld) => (ld - ldCorrupted) / span;
}

interface Sweep {
  ldClean: number;
  ldCorrupted: number;
  /** Per layer: LD of each batch row of the patched runs. */
  patched: number[][];
}

/**
 * For each hook (one per layer): runs the corrupted prompt N times (N = mask.shape[0]) with that hook
 * replaced by mix(corrupted, clean, mask) and returns the logit differences.
 */
function sweep(c: ModelConfig, params: Params, clean: readonly number[], corrupted: readonly number[], answer: number, wrong: number, hooks: HookName[], mask: () => tf.Tensor): Sweep {
  return tf.tidy(() => {
    const cleanRun = forward(c, params, promptTensor([clean]), { cache: hooks });
    const corruptedRun = forward(c, params, promptTensor([corrupted]), { cache: hooks });
    const m = mask();
    const batch = promptTensor(new Array<readonly number[]>(m.shape[0]).fill(corrupted));
    const patched = hooks.map((hook) => {
      const value = mix(corruptedRun.cache[hook], cleanRun.cache[hook], m);
      const { logits } = forward(c, params, batch, { interventions: [{ hook, kind: 'replace', value }] });
      return Array.from(logitDiff(logits, answer, wrong).dataSync());
    });
    return {
      ldClean: logitDiff(cleanRun.logits, answer, wrong).dataSync()[0],
      ldCorrupted: logitDiff(corruptedRun.logits, answer, wrong).dataSync()[0],
      patched,
    };
  });
}

/**
 * Residual-stream patching by layer × position: metric[layer][position] patches the clean
 * `blocks.{layer}.hook_{resid_pre|resid_post}` at that one position into the corrupted run.
 */
export function patchResidual(
  c: ModelConfig,
  params: Params,
  clean: readonly number[],
  corrupted: readonly number[],
  answer: number,
  wrong: number,
  opts: { hook?: 'resid_pre' | 'resid_post' } = {},
): ResidualPatchingResult {
  const T = checkPair(c, clean, corrupted, answer, wrong, 'patchResidual');
  const kind = opts.hook ?? 'resid_pre';
  if (kind !== 'resid_pre' && kind !== 'resid_post') throw new Error(`patchResidual: hook must be 'resid_pre' or 'resid_post', got '${String(kind)}'`);
  const hooks = Array.from({ length: c.nLayers }, (_, l) => hookName(`hook_${kind}`, l));
  // Row i of the batch patches position i: mask [T, T, 1] = identity.
  const s = sweep(c, params, clean, corrupted, answer, wrong, hooks, () => tf.eye(T).reshape([T, T, 1]));
  const norm = normaliser('patchResidual', s.ldClean, s.ldCorrupted);
  return { hook: kind, answer, wrong, cleanLogitDiff: s.ldClean, corruptedLogitDiff: s.ldCorrupted, metric: s.patched.map((row) => row.map(norm)) };
}

/**
 * Head patching: metric[layer][head] patches that head's clean `attn.hook_z` at every position;
 * with `perPosition`, also perPosition[layer][head][position] for one head at one position.
 */
export function patchHeads(
  c: ModelConfig,
  params: Params,
  clean: readonly number[],
  corrupted: readonly number[],
  answer: number,
  wrong: number,
  opts: { perPosition?: boolean } = {},
): HeadPatchingResult {
  const T = checkPair(c, clean, corrupted, answer, wrong, 'patchHeads');
  const H = c.nHeads;
  const hooks = Array.from({ length: c.nLayers }, (_, l) => hookName('attn.hook_z', l));
  // hook_z is [B, T, H, d_v]. Row h patches head h everywhere: mask [H, 1, H, 1].
  const byHead = sweep(c, params, clean, corrupted, answer, wrong, hooks, () => tf.eye(H).reshape([H, 1, H, 1]));
  const norm = normaliser('patchHeads', byHead.ldClean, byHead.ldCorrupted);
  const out: HeadPatchingResult = {
    answer,
    wrong,
    cleanLogitDiff: byHead.ldClean,
    corruptedLogitDiff: byHead.ldCorrupted,
    metric: byHead.patched.map((row) => row.map(norm)),
  };
  if (opts.perPosition) {
    // Row h·T + p patches head h at position p: mask [H·T, T, H, 1].
    const byPos = sweep(c, params, clean, corrupted, answer, wrong, hooks, () => {
      const m = new Float32Array(H * T * T * H);
      for (let h = 0; h < H; h++) for (let p = 0; p < T; p++) m[(((h * T + p) * T + p) * H) + h] = 1;
      return tf.tensor4d(m, [H * T, T, H, 1]);
    });
    out.perPosition = byPos.patched.map((row) => Array.from({ length: H }, (_, h) => row.slice(h * T, (h + 1) * T).map(norm)));
  }
  return out;
}

/**
 * The general form: patches every listed activation at once (clean values, at the given positions or
 * all) and returns the one metric. With no patches the metric is 0; patching the whole residual stream
 * anywhere (all positions of one resid hook) gives 1.
 */
export function patchActivations(
  c: ModelConfig,
  params: Params,
  clean: readonly number[],
  corrupted: readonly number[],
  answer: number,
  wrong: number,
  patches: readonly PatchSpec[],
): PatchResult {
  const T = checkPair(c, clean, corrupted, answer, wrong, 'patchActivations');
  for (const p of patches) {
    const parsed = parseHookName(p.hook);
    if (!parsed) throw new ApiArgumentError(`patchActivations: unknown hook '${p.hook}'`);
    if (parsed.layer !== null && parsed.layer >= c.nLayers) throw new ApiArgumentError(`patchActivations: hook '${p.hook}': layer ${parsed.layer} outside 0..${c.nLayers - 1}`);
    for (const pos of p.positions ?? []) checkPosition(T, pos, `patchActivations at ${p.hook}`);
  }
  const hooks = [...new Set(patches.map((p) => p.hook))];
  const r = tf.tidy(() => {
    const cleanRun = forward(c, params, promptTensor([clean]), { cache: hooks });
    for (const h of hooks) if (!cleanRun.cache[h]) throw new ApiArgumentError(`patchActivations: hook '${h}' does not exist in this model`);
    const tokens = promptTensor([corrupted]);
    const corruptedRun = forward(c, params, tokens, { cache: hooks });
    const { logits } = forward(c, params, tokens, {
      interventions: patches.map((p) => ({ hook: p.hook, kind: 'replace' as const, value: cleanRun.cache[p.hook], ...(p.positions ? { positions: p.positions } : {}) })),
    });
    return {
      ldClean: logitDiff(cleanRun.logits, answer, wrong).dataSync()[0],
      ldCorrupted: logitDiff(corruptedRun.logits, answer, wrong).dataSync()[0],
      ldPatched: logitDiff(logits, answer, wrong).dataSync()[0],
    };
  });
  const metric = normaliser('patchActivations', r.ldClean, r.ldCorrupted)(r.ldPatched);
  return { answer, wrong, cleanLogitDiff: r.ldClean, corruptedLogitDiff: r.ldCorrupted, patchedLogitDiff: r.ldPatched, metric };
}
