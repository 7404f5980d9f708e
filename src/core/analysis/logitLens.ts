import * as tf from '@tensorflow/tfjs';
import {
  checkPosition,
  checkPrompts,
  checkToken,
  type DirectLogitAttributionResult,
  type DlaComponent,
  type LensPrompt,
  type LogitLensResult,
} from '../../shared/analysis';
import { hookName, type HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import { finalNorm, forward, unembed, type Params } from '../model/forward';
import { archOf, dV } from '../model/resolveConfig';
import { promptTensor } from './attention';
import { tidyHost } from '../util/tidyHost';
import { ApiArgumentError } from '../../shared/errors';

type Prompts = readonly (readonly number[])[];

/** The residual hooks the lens reads, in order: every layer's resid_pre, then the last resid_post. */
export function lensHooks(c: ModelConfig): { hook: HookName; depth: number }[] {
  const out = Array.from({ length: c.nLayers }, (_, l) => ({ hook: hookName('hook_resid_pre', l), depth: l }));
  out.push({ hook: hookName('hook_resid_post', c.nLayers - 1), depth: c.nLayers });
  return out;
}

/**
 * Logit lens: each residual hook at one position, read as if it were the final residual: through the
 * final LayerNorm when the model has one, then the unembedding. At the last hook this is exactly the
 * model's logits. Without a residual stream the intermediate hooks are not in the unembedding's basis
 * by training, but they are still what the next layer reads, so the lens is reported all the same.
 */
export function logitLens(
  c: ModelConfig,
  params: Params,
  tokens: Prompts,
  opts: { position?: number; topK?: number; targets?: readonly number[] } = {},
): LogitLensResult {
  const { P, T } = checkPrompts(c, tokens);
  const position = opts.position ?? T - 1;
  checkPosition(T, position, 'logitLens');
  const topK = opts.topK ?? 5;
  if (!Number.isInteger(topK) || topK < 1 || topK > c.dVocab) throw new ApiArgumentError(`logitLens: topK ${topK} outside 1..${c.dVocab}`);
  if (opts.targets) {
    if (opts.targets.length !== P) throw new Error(`logitLens: ${opts.targets.length} targets for ${P} prompts (need one per prompt)`);
    opts.targets.forEach((t, i) => checkToken(c, t, `logitLens target ${i}`));
  }
  const hooks = lensHooks(c);
  const logits = tidyHost(() => {
    const { cache } = forward(c, params, promptTensor(tokens), { cache: hooks.map((h) => h.hook) });
    return hooks.map(({ hook }) => {
      const x = cache[hook].slice([0, position, 0], [P, 1, c.dModel]) as tf.Tensor3D;
      // The final norm's own weights (LayerNorm or RMSNorm, with the model's ε), but its statistics
      // recomputed on this hook's residual (not frozen from the final one): the lens asks what the model
      // would say if it stopped here. The unembedding applies any final soft-capping, so at the last
      // hook this is exactly the model's logits.
      const normed = finalNorm(c, params, x);
      return Float32Array.from(unembed(c, params, normed).dataSync());
    });
  });
  return {
    position,
    layerNorm: c.layerNorm,
    hooks: hooks.map(({ hook, depth }, i) => ({
      hook,
      depth,
      prompts: Array.from({ length: P }, (_, p) => readLogits(logits[i].subarray(p * c.dVocab, (p + 1) * c.dVocab), topK, opts.targets?.[p])),
    })),
  };
}

/** Softmax (in float64), top-k and the target's rank from one row of logits. */
function readLogits(row: Float32Array, topK: number, target: number | undefined): LensPrompt {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let z = 0;
  for (const v of row) z += Math.exp(v - max);
  const prob = (v: number): number => Math.exp(v - max) / z;
  const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);
  const out: LensPrompt = { top: order.slice(0, topK).map((token) => ({ token, logit: row[token], prob: prob(row[token]) })) };
  if (target !== undefined) {
    const logit = row[target];
    let rank = 0;
    for (const v of row) if (v > logit) rank++;
    out.target = { token: target, logit, prob: prob(logit), rank };
  }
  return out;
}

/**
 * Direct logit attribution at one position: how much each component writing to the final residual
 * stream adds to logit(answer) − logit(baseline) (TransformerLens's logit-difference direction
 * W_U[:, answer] − W_U[:, baseline]), to the centred logit logit(answer) − mean over the vocabulary
 * (`baseline: 'mean'`; the result's `baseline` is then null and `logit` holds the centred logit), or to
 * the raw logit(answer) (no baseline), through the final norm and the unembedding alone. A raw logit
 * carries whatever every token shares (with a final LayerNorm, mostly the bias and the common direction
 * of W_U), so its components can all be negative while p(answer) is 1: a difference is what tells the
 * answer apart. Components with a residual stream: token and position embeddings, each head's
 * slice z_h · W_O[h] (`attn.hook_z`; with grouped-query attention z_h is already per query head), each
 * MLP output (its bias b_out included). Where a norm follows the attention output (Gemma 2/3's post
 * norms) the heads no longer add up linearly, so the layer's whole attention output (`hook_attn_out`)
 * is one component of kind 'attn'. Without a residual stream only the last layer's output reaches the
 * logits, so only it is attributed: its heads when the model has no MLP, else its MLP output (which
 * then carries the heads' effect indirectly).
 *
 * The final norm's scale is computed on the full final residual and frozen (the standard DLA
 * approximation), making it linear: with LayerNorm component c contributes ((c − mean c) / σ ⊙ w) · u,
 * with RMSNorm (c / rms ⊙ w) · u, where u is the unembedding direction of answer − baseline. What no
 * component writes goes to `bias`: the unembedding bias, LayerNorm's bias and the attention output
 * biases b_O. With final soft-capping the components add up to the logit before the cap, and `logit`
 * is that raw logit (`finalSoftcap` says so).
 */
export function directLogitAttribution(
  c: ModelConfig,
  params: Params,
  tokens: Prompts,
  opts: { position?: number; answer: number | readonly number[]; baseline?: number | readonly number[] | 'mean' },
): DirectLogitAttributionResult {
  const { P, T } = checkPrompts(c, tokens);
  const position = opts.position ?? T - 1;
  checkPosition(T, position, 'directLogitAttribution');
  const perPrompt = (v: number | readonly number[], what: string): number[] => {
    const out = typeof v === 'number' ? new Array<number>(P).fill(v) : [...v];
    if (out.length !== P) throw new Error(`directLogitAttribution: ${out.length} ${what} tokens for ${P} prompts (give one, or one per prompt)`);
    out.forEach((t, i) => checkToken(c, t, `directLogitAttribution ${what} ${i}`));
    return out;
  };
  const answer = perPrompt(opts.answer, 'answer');
  const centred = opts.baseline === 'mean';
  const baseline = opts.baseline === undefined || opts.baseline === 'mean' ? null : perPrompt(opts.baseline, 'baseline');
  if (baseline) baseline.forEach((b, i) => {
    if (b === answer[i]) throw new ApiArgumentError(`directLogitAttribution: answer and baseline are the same token (${b}) for prompt ${i}; the logit difference would be 0`);
  });

  const a = archOf(c);
  const L = c.nLayers;
  const H = c.nHeads;
  const d = c.dModel;
  const cap = a.finalSoftcap;
  const meta: Omit<DlaComponent, 'values'>[] = [];
  const layersAttributed = c.residual ? Array.from({ length: L }, (_, l) => l) : [L - 1];
  if (c.residual) {
    meta.push({ kind: 'embed', label: 'embed' });
    if (c.posEmbed) meta.push({ kind: 'pos_embed', label: 'pos_embed' });
  }
  for (const l of layersAttributed) {
    if (c.residual || !c.mlp) {
      if (a.postNorms) meta.push({ kind: 'attn', label: `Attn${l}`, layer: l });
      else for (let h = 0; h < H; h++) meta.push({ kind: 'head', label: `L${l}H${h}`, layer: l, head: h });
    }
    if (c.mlp) meta.push({ kind: 'mlp', label: `MLP${l}`, layer: l });
  }
  // Attention output biases, written by no head: into `bias` (heads attributed one by one only).
  const biasLayers = a.postNorms ? [] : layersAttributed.filter((l) => (c.residual || !c.mlp) && params[`blocks.${l}.attn.b_O`]);

  const final = hookName('hook_resid_post', L - 1);
  const [values, bias, logit] = tf.tidy(() => {
    const want: HookName[] = [final, hookName('hook_embed')];
    if (c.posEmbed) want.push(hookName('hook_pos_embed'));
    if (cap > 0) want.push(hookName('ln_final.hook_normalized'));
    for (const l of layersAttributed) want.push(hookName(a.postNorms ? 'hook_attn_out' : 'attn.hook_z', l), ...(c.mlp ? [hookName('hook_mlp_out', l)] : []));
    const { cache, logits } = forward(c, params, promptTensor(tokens), { cache: want });
    const at = (t: tf.Tensor): tf.Tensor2D => t.slice([0, position, 0], [P, 1, d]).reshape([P, d]);

    // Each component at the position, [P, d], in the order of `meta`.
    const parts: tf.Tensor2D[] = [];
    for (const m of meta) {
      if (m.kind === 'embed') parts.push(at(cache[hookName('hook_embed')]));
      else if (m.kind === 'pos_embed') parts.push(at(cache[hookName('hook_pos_embed')]));
      else if (m.kind === 'mlp') parts.push(at(cache[hookName('hook_mlp_out', m.layer as number)]));
      else if (m.kind === 'attn') parts.push(at(cache[hookName('hook_attn_out', m.layer as number)]));
      else if (m.head === 0) {
        // All heads of the layer at once: z [P, H, dv] → [H, P, dv] · W_O [H, dv, d] → [H, P, d].
        const l = m.layer as number;
        const z = cache[hookName('attn.hook_z', l)].slice([0, position, 0, 0], [P, 1, H, dV(c)]).reshape([P, H, dV(c)]).transpose([1, 0, 2]) as tf.Tensor3D;
        const perHead = tf.matMul(z, params[`blocks.${l}.attn.W_O`] as tf.Tensor3D);
        for (let h = 0; h < H; h++) parts.push(perHead.slice([h, 0, 0], [1, P, d]).reshape([P, d]));
      }
    }
    const comps = tf.stack(parts) as tf.Tensor3D; // [K, P, d]

    // Unembedding direction u [P, d] of answer − baseline, and the constant the unembedding adds.
    const ids = (v: number[]): tf.Tensor1D => tf.tensor1d(v, 'int32');
    const column = (v: number[]): tf.Tensor2D => {
      if (c.unembed === 'identity') return tf.oneHot(ids(v), c.dVocab).toFloat() as tf.Tensor2D;
      if (c.unembed === 'tied') return tf.gather(params['embed.W_E'], ids(v)) as tf.Tensor2D;
      return tf.gather(params['unembed.W_U'], ids(v), 1).transpose() as tf.Tensor2D;
    };
    const biasOf = (v: number[]): tf.Tensor1D => (c.unembed === 'learned' && params['unembed.b_U'] ? tf.gather(params['unembed.b_U'], ids(v)) : tf.zeros([P])) as tf.Tensor1D;
    // The mean over the vocabulary of the unembedding's columns and biases (centred logits).
    const meanColumn = (): tf.Tensor2D => {
      const m = c.unembed === 'identity' ? tf.fill([1, d], 1 / c.dVocab) : c.unembed === 'tied' ? params['embed.W_E'].mean(0, true) : params['unembed.W_U'].mean(1).reshape([1, d]);
      return m.tile([P, 1]) as tf.Tensor2D;
    };
    const meanBias = (): tf.Tensor1D => (c.unembed === 'learned' && params['unembed.b_U'] ? params['unembed.b_U'].mean().reshape([1]).tile([P]) : tf.zeros([P])) as tf.Tensor1D;
    let u = column(answer);
    let bias = biasOf(answer);
    if (baseline) {
      u = u.sub(column(baseline));
      bias = bias.sub(biasOf(baseline));
    } else if (centred) {
      u = u.sub(meanColumn());
      bias = bias.sub(meanBias());
    }

    // The frozen normalisation: a component x contributes norm(x) · u with the final residual's scale.
    let read: (x: tf.Tensor) => tf.Tensor; // [..., P, d] → [..., P]
    if (c.layerNorm) {
      const x = at(cache[final]);
      const wu = u.mul(params['ln_final.w']); // [P, d]
      if (a.norm === 'RMS') {
        const rms = x.square().mean(-1).add(a.normEps).sqrt(); // [P], frozen
        read = (y) => y.mul(wu).sum(-1).div(rms);
      } else {
        const sigma = x.sub(x.mean(-1, true)).square().mean(-1).add(a.normEps).sqrt(); // [P], frozen
        read = (y) => y.sub(y.mean(-1, true)).mul(wu).sum(-1).div(sigma);
        bias = bias.add(u.mul(params['ln_final.b']).sum(-1));
      }
    } else {
      read = (y) => y.mul(u).sum(-1);
    }
    const contrib = read(comps) as tf.Tensor2D; // [K, P]
    for (const l of biasLayers) bias = bias.add(read(params[`blocks.${l}.attn.b_O`].reshape([1, d]).tile([P, 1])));

    let modelLogit: tf.Tensor1D;
    if (cap > 0) {
      // The raw logit before cap·tanh(·/cap), from the normalised final residual.
      const normed = at(cache[hookName('ln_final.hook_normalized')]);
      const raw = (v: number[]): tf.Tensor1D => normed.mul(column(v)).sum(-1).add(biasOf(v)) as tf.Tensor1D;
      if (baseline) modelLogit = raw(answer).sub(raw(baseline));
      else if (centred) modelLogit = raw(answer).sub(normed.mul(meanColumn()).sum(-1).add(meanBias()));
      else modelLogit = raw(answer);
    } else {
      const last = logits.slice([0, position, 0], [P, 1, c.dVocab]).reshape([P, c.dVocab]);
      const pick = (v: number[]): tf.Tensor1D => tf.gather(last.reshape([-1]), tf.tensor1d(v.map((t, i) => i * c.dVocab + t), 'int32')) as tf.Tensor1D;
      if (baseline) modelLogit = pick(answer).sub(pick(baseline));
      else if (centred) modelLogit = pick(answer).sub(last.mean(-1));
      else modelLogit = pick(answer);
    }
    return [contrib.arraySync(), Array.from(bias.dataSync()), Array.from(modelLogit.dataSync())];
  });

  const components: DlaComponent[] = meta.map((m, k) => ({ ...m, values: values[k] }));
  const sum = Array.from({ length: P }, (_, p) => components.reduce((s, comp) => s + comp.values[p], bias[p]));
  return { position, answer, baseline, components, bias, logit, sum, layerNorm: c.layerNorm ? 'frozen-scale' : 'none', ...(cap > 0 ? { finalSoftcap: cap } : {}) };
}
