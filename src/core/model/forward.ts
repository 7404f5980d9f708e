import * as tf from '@tensorflow/tfjs';
import { hookName, type HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import { archOf, dV, type Architecture } from './resolveConfig';
import { applyRotary, rotaryFrequencies } from './rotary';
import { geluTanh } from './geluOp';
import { layerNormOp } from './layerNormOp';

export type Params = Record<string, tf.Tensor>;

/**
 * An edit of one activation, passed to `forward` (never global hook state). Positions index the
 * sequence axis (axis 1 of [B, T, ...] hooks, the query axis of [B, H, Tq, Tk] hooks).
 */
export type Intervention =
  | { hook: HookName; kind: 'add'; /** Trailing-dims shape, e.g. [d_model]. */ value: tf.Tensor; positions?: readonly number[]; scale?: number }
  | { hook: HookName; kind: 'replace'; /** The hook's full shape. */ value: tf.Tensor; positions?: readonly number[] };

export interface ForwardOptions {
  /** Hooks to return; 'all' caches every hook point. */
  cache?: readonly HookName[] | 'all';
  interventions?: readonly Intervention[];
  /**
   * 'last' computes the final block only at the last query position: all that a loss read at the end
   * token needs, and T times less work in that block. Caches then hold one position after the last
   * block's hook_resid_pre.
   */
  readout?: 'all' | 'last';
  /**
   * Flat indices b·T + t of the positions to unembed (int32 [N]): logits are then [1, N, d_vocab], and
   * ln_final.hook_normalized holds those positions only. A fine-tune's loss reads a few completion
   * positions; for a real vocabulary the unembedding of every other position is most of the work.
   */
  readoutAt?: tf.Tensor1D;
  /**
   * An unmerged LoRA adapter: `blocks.{l}.{target}.lora_A` [d_in, r] and `.lora_B` [r, d_out] (targets
   * attn.W_Q|W_K|W_V|W_O, mlp.W_in|W_gate|W_out, each viewed as the 2-D map of src/core/finetune/lora.ts),
   * with the scale already folded into lora_B. Each adapted projection adds x·A·B; without it the same
   * call is the base model.
   */
  adapter?: Params;
  /**
   * Which layout of the same computation to run: the real-model one (per-head 2-D attention products,
   * per-block tidy, W_E-left unembedding) or the toy one, whose exact op sequence the toy presets'
   * numbers depend on. Default: the real-model layout from a vocabulary of LARGE_VOCAB on (a real
   * tokenizer). Tests pin it to compare the two on one model.
   */
  largeModel?: boolean;
}

export interface ForwardResult {
  /** [B, T_out, d_vocab]; T_out = 1 with readout 'last'. */
  logits: tf.Tensor3D;
  cache: Record<string, tf.Tensor>;
}

/** The residual stream, kept as token ids while it is still a one-hot (identity embeddings). */
type Resid = { kind: 'onehot'; tokens: tf.Tensor2D } | { kind: 'dense'; x: tf.Tensor3D };

const HOOK_POSITION_AXIS = (name: string): number => (name.endsWith('hook_pattern') || name.endsWith('hook_attn_scores') ? 2 : 1);

/** Runs the model on int32 tokens [B, T]. Call inside tf.tidy (or dispose the result's tensors). */
export function forward(c: ModelConfig, params: Params, tokens: tf.Tensor2D, opts: ForwardOptions = {}): ForwardResult {
  const [B, T] = tokens.shape;
  if (T > c.nCtx) throw new Error(`sequence length ${T} exceeds nCtx ${c.nCtx}`);
  const a = archOf(c);
  const large = opts.largeModel ?? c.dVocab >= LARGE_VOCAB;
  const cache: Record<string, tf.Tensor> = {};
  const wantAll = opts.cache === 'all';
  const wanted = new Set<string>(wantAll ? [] : (opts.cache ?? []));
  const byHook = new Map<string, Intervention[]>();
  for (const iv of opts.interventions ?? []) byHook.set(iv.hook, [...(byHook.get(iv.hook) ?? []), iv]);
  const touches = (name: HookName): boolean => wantAll || wanted.has(name) || byHook.has(name);
  const lora = (weight: string): Lora | undefined => {
    const A = opts.adapter?.[`${weight}.lora_A`];
    const Bm = opts.adapter?.[`${weight}.lora_B`];
    return A && Bm ? { A, B: Bm } : undefined;
  };
  const norm = (x: tf.Tensor3D, name: string): tf.Tensor3D =>
    a.norm === 'RMS' ? rmsNorm(x, params[`${name}.w`], a.normEps) : layerNorm(x, params[`${name}.w`], params[`${name}.b`], a.normEps);

  // Hooks of the last block after its resid_pre hold only the read-out query position when readout is
  // 'last'; interventions there are mapped onto it (positions before it cannot reach the read-out).
  let queryOnly: { from: number; hooks: Set<string> } | null = null;
  const hook = <R extends tf.Tensor>(name: HookName, t: R): R => {
    let out = t;
    for (const iv of byHook.get(name) ?? []) {
      if (queryOnly?.hooks.has(name) && iv.positions) {
        if (!iv.positions.includes(queryOnly.from)) continue;
        out = applyIntervention(name, out, { ...iv, positions: [0] }) as R;
      } else {
        out = applyIntervention(name, out, iv) as R;
      }
    }
    if (wantAll || wanted.has(name)) cache[name] = out;
    return out;
  };
  // project() lays W_Q/W_K/W_V out as [d_in, H·k] on every call (a copy, which the wasm matmul then
  // packs again). A real model (large vocabulary) frees both right after its product instead of at the
  // end of the caller's tidy: ~2 × 85 MB less at the peak for GPT-2 small. Same ops, same numbers; the
  // toy presets keep their exact sequence.
  const proj = (x: Resid, w: string, b: string): tf.Tensor4D =>
    large ? tf.tidy(() => project(x, params[w], params[b], lora(w))) : project(x, params[w], params[b], lora(w));
  const dense = (r: Resid): tf.Tensor3D => (r.kind === 'dense' ? r.x : (tf.oneHot(r.tokens, c.dVocab).toFloat() as tf.Tensor3D));

  let resid: Resid;
  if (c.embed === 'identity' && !c.posEmbed && a.embedScale === 1 && !touches(hookName('hook_embed'))) {
    resid = { kind: 'onehot', tokens };
  } else {
    let embedded = tf.gather(params['embed.W_E'], tokens) as tf.Tensor3D;
    // Gemma scales token embeddings by sqrt(d_model); the tied unembedding still reads the unscaled W_E.
    if (a.embedScale !== 1) embedded = embedded.mul(a.embedScale);
    let x = hook(hookName('hook_embed'), embedded);
    if (c.posEmbed) {
      const pos = hook(hookName('hook_pos_embed'), repeatOverBatch(params['pos_embed.W_pos'].slice([0, 0], [T, c.dModel]) as tf.Tensor2D, B));
      x = x.add(pos);
    }
    resid = { kind: 'dense', x };
  }

  const d = c.dModel;
  const H = c.nHeads;
  const runBlock = (l: number): void => {
    const p = `blocks.${l}`;
    const last = l === c.nLayers - 1 && opts.readout === 'last';
    const qPos = last ? [T - 1] : null;
    const Tq = qPos ? 1 : T;
    if (qPos) {
      const own = ['attn.hook_q', 'attn.hook_attn_scores', 'attn.hook_pattern', 'attn.hook_z', 'hook_attn_out', 'hook_resid_mid', 'mlp.hook_pre', 'mlp.hook_post', 'hook_mlp_out', 'hook_resid_post'] as const;
      queryOnly = { from: T - 1, hooks: new Set<string>([...own.map((h) => hookName(h, l)), 'ln_final.hook_normalized']) };
    }

    if (resid.kind === 'onehot' && touches(hookName('hook_resid_pre', l))) resid = { kind: 'dense', x: dense(resid) };
    if (resid.kind === 'dense') resid = { kind: 'dense', x: hook(hookName('hook_resid_pre', l), resid.x) };
    const attnIn: Resid = c.layerNorm ? { kind: 'dense', x: norm(dense(resid), `${p}.ln1`) } : resid;
    const queryIn = qPos ? selectLast(attnIn, T) : attnIn;

    let q = hook(hookName('attn.hook_q', l), proj(queryIn, `${p}.attn.W_Q`, `${p}.attn.b_Q`));
    let k = hook(hookName('attn.hook_k', l), proj(attnIn, `${p}.attn.W_K`, `${p}.attn.b_K`));
    const v = hook(hookName('attn.hook_v', l), proj(attnIn, `${p}.attn.W_V`, `${p}.attn.b_V`));
    // As TransformerLens, hook_q / hook_k hold the projections; per-head norms and rotary come after.
    if (a.qkNorm) {
      q = rmsNorm(q, params[`${p}.attn.q_norm.w`], a.normEps);
      k = rmsNorm(k, params[`${p}.attn.k_norm.w`], a.normEps);
    }
    const sliding = a.slidingLayers.includes(l);
    if (a.rotaryDims > 0) {
      // Gemma 3's local layers use their own base and no scaling.
      const freqs = sliding ? rotaryFrequencies(a.rotaryDims, a.rotaryBaseLocal) : rotaryFrequencies(a.rotaryDims, a.rotaryBase, a.rotaryScaling);
      q = applyRotary(q, qPos ?? range(T), a.rotaryDims, freqs);
      k = applyRotary(k, range(T), a.rotaryDims, freqs);
    }

    const group = H / a.nKeyValueHeads;
    const qh = headsFirst(q); // [B, H, Tq, dh]
    let scores = large ? attnScores2d(qh, k) : (tf.matMul(qh, repeatKv(headsFirst(k), group), false, true) as tf.Tensor4D); // [B, H, Tq, T]
    const window = sliding ? a.slidingWindow : 0;
    // [Tq, T], 1 where the query may attend to the key; null when nothing is masked (the last query
    // position of a full-attention layer).
    const mask = qPos && qPos[0] === T - 1 && window === 0 ? null : causalMask(qPos ?? range(T), T, window);
    let pattern: tf.Tensor4D;
    if (c.attention === 'softmax') {
      let scaled = scores.mul(1 / a.attnScale) as tf.Tensor4D;
      if (a.attnSoftcap > 0) scaled = softcap(scaled, a.attnSoftcap);
      scores = hook(hookName('attn.hook_attn_scores', l), (mask ? scaled.add(mask.sub(1).mul(1e9)) : scaled) as tf.Tensor4D);
      pattern = tf.softmax(scores, -1) as tf.Tensor4D;
    } else {
      scores = hook(hookName('attn.hook_attn_scores', l), (mask ? scores.mul(mask) : scores) as tf.Tensor4D);
      pattern = scores;
    }
    pattern = hook(hookName('attn.hook_pattern', l), pattern);

    const zh = large ? patternTimesV2d(pattern, v) : tf.matMul(pattern, repeatKv(headsFirst(v), group)); // [B, H, Tq, dv]
    const z = hook(hookName('attn.hook_z', l), headsFirst(zh) as tf.Tensor4D); // [B, Tq, H, dv]
    let attnOut = linear(z.reshape([B, Tq, H * dV(c)]) as tf.Tensor3D, params[`${p}.attn.W_O`].reshape([H * dV(c), d]), params[`${p}.attn.b_O`], lora(`${p}.attn.W_O`));
    if (a.postNorms) attnOut = norm(attnOut, `${p}.ln1_post`);
    attnOut = hook(hookName('hook_attn_out', l), attnOut);

    const residIn = (): tf.Tensor3D => dense(qPos ? selectLast(resid, T) : resid);
    let x: tf.Tensor3D;
    if (a.parallelAttnMlp) {
      // GPT-NeoX: attention and MLP both read the block input; no residual stream lies between them,
      // so there is no hook_resid_mid (as in TransformerLens).
      const input = residIn();
      const mlpOut = mlp(a, params, p, l, c.layerNorm ? norm(input, `${p}.ln2`) : input, hook, lora, norm, large);
      x = input.add(attnOut).add(mlpOut);
    } else {
      x = c.residual ? residIn().add(attnOut) : attnOut;
      x = hook(hookName('hook_resid_mid', l), x);
      if (c.mlp) {
        const mlpOut = mlp(a, params, p, l, c.layerNorm ? norm(x, `${p}.ln2`) : x, hook, lora, norm, large);
        x = c.residual ? x.add(mlpOut) : mlpOut;
      }
    }
    resid = { kind: 'dense', x: hook(hookName('hook_resid_post', l), x) };
  };
  for (let l = 0; l < c.nLayers; l++) {
    if (!large) {
      runBlock(l);
      continue;
    }
    // A real model runs each block in its own tidy, keeping only the residual stream and the hooks it
    // caches: otherwise every intermediate of every block (~55 MB a block for GPT-2 small at 256 tokens)
    // lives until the caller's tidy ends. Same ops, same numbers.
    const before = new Set(Object.keys(cache));
    tf.tidy(() => {
      runBlock(l);
      const r = resid as Resid;
      return { x: r.kind === 'dense' ? r.x : r.tokens, cached: Object.keys(cache).filter((k) => !before.has(k)).map((k) => cache[k]) };
    });
  }

  let final = dense(resid);
  if (opts.readoutAt) final = tf.gather(final.reshape([-1, c.dModel]), opts.readoutAt).expandDims(0) as tf.Tensor3D;
  if (c.layerNorm) final = hook(hookName('ln_final.hook_normalized'), norm(final, 'ln_final'));
  return { logits: unembed(c, params, final, large), cache };
}

interface Lora {
  A: tf.Tensor;
  B: tf.Tensor;
}

type HookFn = <R extends tf.Tensor>(name: HookName, t: R) => R;

/**
 * The MLP, plain (act(x W_in + b_in) W_out + b_out) or gated as TransformerLens's GatedMLP:
 * hook_pre is the gate's pre-activation x W_gate, hook_post is act(x W_gate) ⊙ (x W_in).
 */
function mlp(
  a: Architecture,
  params: Params,
  p: string,
  l: number,
  mlpIn: tf.Tensor3D,
  hook: HookFn,
  lora: (weight: string) => Lora | undefined,
  norm: (x: tf.Tensor3D, name: string) => tf.Tensor3D,
  large: boolean,
): tf.Tensor3D {
  let post: tf.Tensor3D;
  if (a.gatedMlp) {
    const pre = hook(hookName('mlp.hook_pre', l), linear(mlpIn, params[`${p}.mlp.W_gate`], undefined, lora(`${p}.mlp.W_gate`)));
    const up = linear(mlpIn, params[`${p}.mlp.W_in`], params[`${p}.mlp.b_in`], lora(`${p}.mlp.W_in`));
    post = hook(hookName('mlp.hook_post', l), activation(a.act, pre, large).mul(up));
  } else {
    const pre = hook(hookName('mlp.hook_pre', l), linear(mlpIn, params[`${p}.mlp.W_in`], params[`${p}.mlp.b_in`], lora(`${p}.mlp.W_in`)));
    post = hook(hookName('mlp.hook_post', l), activation(a.act, pre, large));
  }
  let out = linear(post, params[`${p}.mlp.W_out`], params[`${p}.mlp.b_out`], lora(`${p}.mlp.W_out`));
  if (a.postNorms) out = norm(out, `${p}.ln2_post`);
  return hook(hookName('hook_mlp_out', l), out);
}

/**
 * From this vocabulary size on (a real tokenizer, so a real model) forward takes its large-model layout
 * by default (ForwardOptions.largeModel): the toy presets stay well below it.
 */
const LARGE_VOCAB = 4096;

export function unembed(c: ModelConfig, params: Params, x: tf.Tensor3D, large = c.dVocab >= LARGE_VOCAB): tf.Tensor3D {
  if (c.unembed === 'identity') return x;
  const [B, T, d] = x.shape;
  const flat = x.reshape([B * T, d]);
  let logits: tf.Tensor;
  if (c.unembed === 'tied') {
    // A real vocabulary (tens of thousands of rows): W_E as the left operand, logits = (W_E · xᵀ)ᵀ, so
    // only the small xᵀ and [V, T] result are materialised. x · W_Eᵀ would copy W_Eᵀ on every call
    // (the wasm kernel fix in src/core/backend/kernels/BatchMatMul_wasm.ts materialises transposes) and
    // the backend's matmul would pack that copy again: ~2× slower and two transient copies of W_E.
    // Small vocabularies (the toy presets) keep their exact product.
    logits = large ? tf.matMul(params['embed.W_E'], flat, false, true).transpose() : tf.matMul(flat, params['embed.W_E'], false, true);
  } else {
    logits = flat.matMul(params['unembed.W_U']);
    if (params['unembed.b_U']) logits = logits.add(params['unembed.b_U']);
  }
  const cap = c.finalSoftcap ?? 0;
  return (cap > 0 ? softcap(logits, cap) : logits).reshape([B, T, c.dVocab]);
}

/**
 * x [B, T, d_in] (or one-hot ids) times W [H, d_in, k] (+ b [H, k]) → [B, T, H, k]. A one-hot input is a
 * row gather. An adapter adds x·A·B, with B's columns in W's [H, k] order.
 */
function project(x: Resid, W: tf.Tensor, b?: tf.Tensor, lora?: Lora): tf.Tensor4D {
  const [H, dIn, k] = W.shape;
  const flat = H === 1 ? W.reshape([dIn, k]) : W.transpose([1, 0, 2]).reshape([dIn, H * k]);
  let out: tf.Tensor;
  let shape: [number, number];
  if (x.kind === 'onehot') {
    const [B, T] = x.tokens.shape;
    shape = [B, T];
    out = tf.gather(flat, x.tokens);
    if (lora) out = out.add(tf.gather(lora.A, x.tokens.reshape([B * T])).matMul(lora.B).reshape([B, T, H * k]));
  } else {
    const [B, T] = x.x.shape;
    shape = [B, T];
    const x2 = x.x.reshape([B * T, dIn]);
    out = x2.matMul(flat);
    if (lora) out = out.add(x2.matMul(lora.A).matMul(lora.B));
  }
  const heads = out.reshape([...shape, H, k]) as tf.Tensor4D;
  return b ? heads.add(b) : heads;
}

/** Swaps axes 1 and 2 ([B, T, H, k] ↔ [B, H, T, k]); a free reshape when there is one head. */
function headsFirst(x: tf.Tensor): tf.Tensor4D {
  const [a, b, c, d] = x.shape as [number, number, number, number];
  return (b === 1 || c === 1 ? x.reshape([a, c, b, d]) : x.transpose([0, 2, 1, 3])) as tf.Tensor4D;
}

/*
 * The real-model attention products as 2-D matmuls, one per (batch row, kv head), stacked: the wasm
 * backend runs a matmul through XNNPACK only when both operands have batch 1 and no transpose flag; a
 * batched one ([B·H, ...], as the toy path's) falls back to a plain C loop, ~10× slower (the two products
 * took ~1.4 s of a 4.1 s 256-token GPT-2-small forward). The query heads that share a kv head (GQA) are
 * consecutive, so they stack as rows of one product and need no repeatKv copy. Same sums, another order.
 */

/** qh [B, H, Tq, dh] · kᵀ with k [B, T, H_kv, dh] → scores [B, H, Tq, T]. */
function attnScores2d(qh: tf.Tensor4D, k: tf.Tensor4D): tf.Tensor4D {
  const [B, H, Tq, dh] = qh.shape;
  const [, T, Hkv] = k.shape;
  const rows = (H / Hkv) * Tq;
  const qs = matrices(qh.reshape([B * Hkv, rows, dh]));
  // Kᵀ laid out once for every head ([B, H_kv, dh, T]): a transpose flag would leave XNNPACK too.
  const kts = matrices(k.transpose([0, 2, 3, 1]).reshape([B * Hkv, dh, T]));
  return tf.stack(qs.map((q, i) => tf.matMul(q, kts[i]))).reshape([B, H, Tq, T]);
}

/** pattern [B, H, Tq, T] · v with v [B, T, H_kv, dv] → z [B, H, Tq, dv]. */
function patternTimesV2d(pattern: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D {
  const [B, H, Tq, T] = pattern.shape;
  const [, , Hkv, dv] = v.shape;
  const ps = matrices(pattern.reshape([B * Hkv, (H / Hkv) * Tq, T]));
  const vs = matrices(headsFirst(v).reshape([B * Hkv, T, dv]));
  return tf.stack(ps.map((p, i) => tf.matMul(p, vs[i]))).reshape([B, H, Tq, dv]);
}

/**
 * The matrices of x [n, r, c], each its own [r, c] tensor. By row gather, not tf.unstack: the wasm
 * Slice behind unstack copies the whole input out of the heap for every slice, n copies of it (3.5 ms
 * to split GPT-2 small's 12 query heads at 256 tokens); our GatherV2 copies just the rows it takes (0.3 ms).
 */
function matrices(x: tf.Tensor3D): tf.Tensor2D[] {
  const [n, r, c] = x.shape;
  return Array.from({ length: n }, (_, i) => tf.gather(x, [i]).reshape([r, c]));
}

/** Grouped-query attention: [B, H_kv, T, k] → [B, H_kv·group, T, k], query head h reading kv head ⌊h / group⌋. */
function repeatKv(x: tf.Tensor4D, group: number): tf.Tensor4D {
  if (group === 1) return x;
  // Query head h reads key/value head floor(h / group). A gather, not a rank-5 tile: tfjs has no
  // gradient for tiles above rank 4, and fine-tuning backpropagates through here.
  const Hkv = x.shape[1];
  const heads = tf.tensor1d(Int32Array.from({ length: Hkv * group }, (_, h) => Math.floor(h / group)), 'int32');
  return tf.gather(x, heads, 1);
}

/**
 * [T, d] → [B, T, d], B copies of x (the position embeddings as hook_pos_embed holds them). tfjs's
 * gradient of tile slices each of the B copies out of dy and adds them one at a time, the sum
 * ((0 + dy[0]) + dy[1]) + …; on wasm that cost B full copies of dy (Slice reads its whole input out
 * of the heap) and B Adds. There the gradient is dy summed over axis 0 instead, which the wasm Sum
 * (stock or src/core/backend/kernels/Sum_wasm.ts) adds in exactly that order in float32: the same
 * bits in one pass. Other backends keep tile's gradient: the cpu Sum, for one, accumulates in double.
 */
export function repeatOverBatch(x: tf.Tensor2D, B: number): tf.Tensor3D {
  const tiled = (t: tf.Tensor): tf.Tensor3D => t.expandDims(0).tile([B, 1, 1]) as tf.Tensor3D;
  if (tf.getBackend() !== 'wasm') return tiled(x);
  const repeat = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({ value: tiled(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => dy.sum(0) }));
  return repeat(x) as tf.Tensor3D;
}

function selectLast(r: Resid, T: number): Resid {
  if (r.kind === 'onehot') {
    const B = r.tokens.shape[0];
    return { kind: 'onehot', tokens: r.tokens.slice([0, T - 1], [B, 1]) };
  }
  const [B, , d] = r.x.shape;
  return { kind: 'dense', x: r.x.slice([0, T - 1, 0], [B, 1, d]) };
}

/** x W (+ b), plus x·A·B for an adapted weight. */
function linear(x: tf.Tensor3D, W: tf.Tensor, b?: tf.Tensor, lora?: Lora): tf.Tensor3D {
  const [B, T, dIn] = x.shape;
  const x2 = x.reshape([B * T, dIn]);
  let out = x2.matMul(W);
  if (lora) out = out.add(x2.matMul(lora.A).matMul(lora.B));
  if (b) out = out.add(b);
  return out.reshape([B, T, W.shape[1] as number]);
}

/**
 * The final normalisation (`ln_final`) exactly as the forward pass applies it: LayerNorm or RMSNorm
 * per the config, with its ε; the identity for a model without normalisation.
 */
export function finalNorm(c: ModelConfig, params: Params, x: tf.Tensor3D): tf.Tensor3D {
  if (!c.layerNorm) return x;
  const a = archOf(c);
  return a.norm === 'RMS' ? rmsNorm(x, params['ln_final.w'], a.normEps) : layerNorm(x, params['ln_final.w'], params['ln_final.b'], a.normEps);
}

/** LayerNorm's default ε (as TransformerLens / GPT-2): σ = sqrt(var + LN_EPS). Analyses that freeze σ use it too. */
export const LN_EPS = 1e-5;

/** LayerNorm over the last axis; the statistics are those of `x` itself. */
export function layerNorm(x: tf.Tensor3D, w: tf.Tensor, b: tf.Tensor, eps = LN_EPS): tf.Tensor3D {
  return layerNormOp(x, w, b, eps);
}

/** RMSNorm over the last axis (Llama, Gemma; Gemma's 1 + w is folded into w when its weights load). */
export function rmsNorm<R extends tf.Tensor>(x: R, w: tf.Tensor, eps: number): R {
  return x.mul(x.square().mean(-1, true).add(eps).rsqrt()).mul(w) as R;
}

/** cap·tanh(x / cap): Gemma 2's soft-capping of attention scores and logits. */
function softcap<R extends tf.Tensor>(x: R, cap: number): R {
  return x.div(cap).tanh().mul(cap) as R;
}

function activation(act: Architecture['act'], x: tf.Tensor3D, large: boolean): tf.Tensor3D {
  switch (act) {
    case 'gelu_new':
      return large ? geluSigmoid(x) : geluTanh(x);
    case 'gelu':
      return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
    case 'silu':
      return x.mul(x.sigmoid());
    case 'relu':
      return x.relu();
  }
}

/**
 * The same GELU for real models: 0.5·(1 + tanh(u)) = sigmoid(2u), and x³ as x·x². The wasm Pow and Tanh
 * are scalar libm loops (~15 ns an element each); Sigmoid and Multiply are XNNPACK's: 30 → 5 ms on
 * GPT-2 small's [256, 3072] MLP activation, ~0.3 s of a 256-token forward. Differs by float rounding
 * (≤ 5e-8 relative); the toy presets keep geluTanh's exact numbers.
 */
function geluSigmoid(x: tf.Tensor3D): tf.Tensor3D {
  return x.mul(x.square().mul(0.044715).add(1).mul(x).mul(2 * Math.sqrt(2 / Math.PI)).sigmoid());
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** 1 where key j may be read by the query at position qp: j ≤ qp, and qp − j < window when sliding. */
function causalMask(queryPositions: readonly number[], T: number, window = 0): tf.Tensor2D {
  const m = new Float32Array(queryPositions.length * T);
  queryPositions.forEach((qp, i) => {
    for (let j = window > 0 ? Math.max(0, qp - window + 1) : 0; j <= qp; j++) m[i * T + j] = 1;
  });
  return tf.tensor2d(m, [queryPositions.length, T]);
}

function applyIntervention(name: string, t: tf.Tensor, iv: Intervention): tf.Tensor {
  const axis = HOOK_POSITION_AXIS(name);
  const n = t.shape[axis] as number;
  const posMask = (): tf.Tensor | null => {
    if (!iv.positions) return null;
    const m = new Float32Array(n);
    for (const p of iv.positions) {
      if (!Number.isInteger(p) || p < 0 || p >= n) throw new Error(`intervention at ${name}: position ${p} outside 0..${n - 1}`);
      m[p] = 1;
    }
    const shape = t.shape.map((s, i) => (i === axis ? n : 1));
    return tf.tensor(m, shape);
  };
  if (iv.kind === 'add') {
    const trailing = t.shape.slice(t.shape.length - iv.value.shape.length);
    if (trailing.join(',') !== iv.value.shape.join(',')) {
      throw new Error(`intervention at ${name}: value shape [${iv.value.shape}] does not match the hook's trailing dims [${trailing}]`);
    }
    let delta = iv.scale !== undefined ? iv.value.mul(iv.scale) : iv.value;
    const m = posMask();
    if (m) delta = delta.mul(m);
    return t.add(delta);
  }
  if (iv.value.shape.join(',') !== t.shape.join(',')) {
    throw new Error(`intervention at ${name}: replacement shape [${iv.value.shape}] differs from the hook's [${t.shape}]`);
  }
  const m = posMask();
  return m ? t.mul(tf.scalar(1).sub(m)).add(iv.value.mul(m)) : iv.value;
}
