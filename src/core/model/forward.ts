import * as tf from '@tensorflow/tfjs';
import { hookName, type HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import { dV } from './resolveConfig';

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
  const cache: Record<string, tf.Tensor> = {};
  const wantAll = opts.cache === 'all';
  const wanted = new Set<string>(wantAll ? [] : (opts.cache ?? []));
  const byHook = new Map<string, Intervention[]>();
  for (const iv of opts.interventions ?? []) byHook.set(iv.hook, [...(byHook.get(iv.hook) ?? []), iv]);
  const touches = (name: HookName): boolean => wantAll || wanted.has(name) || byHook.has(name);

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
  const dense = (r: Resid): tf.Tensor3D => (r.kind === 'dense' ? r.x : (tf.oneHot(r.tokens, c.dVocab).toFloat() as tf.Tensor3D));

  let resid: Resid;
  if (c.embed === 'identity' && !c.posEmbed && !touches(hookName('hook_embed'))) {
    resid = { kind: 'onehot', tokens };
  } else {
    let x = hook(hookName('hook_embed'), tf.gather(params['embed.W_E'], tokens) as tf.Tensor3D);
    if (c.posEmbed) {
      const pos = hook(hookName('hook_pos_embed'), params['pos_embed.W_pos'].slice([0, 0], [T, c.dModel]).expandDims(0).tile([B, 1, 1]) as tf.Tensor3D);
      x = x.add(pos);
    }
    resid = { kind: 'dense', x };
  }

  const d = c.dModel;
  const H = c.nHeads;
  for (let l = 0; l < c.nLayers; l++) {
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
    const attnIn: Resid = c.layerNorm ? { kind: 'dense', x: layerNorm(dense(resid), params[`${p}.ln1.w`], params[`${p}.ln1.b`]) } : resid;
    const queryIn = qPos ? selectLast(attnIn, T) : attnIn;

    const q = hook(hookName('attn.hook_q', l), project(queryIn, params[`${p}.attn.W_Q`]));
    const k = hook(hookName('attn.hook_k', l), project(attnIn, params[`${p}.attn.W_K`]));
    const v = hook(hookName('attn.hook_v', l), project(attnIn, params[`${p}.attn.W_V`]));

    const qh = headsFirst(q); // [B, H, Tq, dh]
    const kh = headsFirst(k); // [B, H, T, dh]
    let scores = tf.matMul(qh, kh, false, true) as tf.Tensor4D; // [B, H, Tq, T]
    // [Tq, T], 1 where key ≤ query; null when nothing is masked (only the last query position).
    const mask = qPos && qPos[0] === T - 1 ? null : causalMask(qPos ?? range(T), T);
    let pattern: tf.Tensor4D;
    if (c.attention === 'softmax') {
      scores = hook(hookName('attn.hook_attn_scores', l), (mask ? scores.mul(1 / Math.sqrt(c.dHead)).add(mask.sub(1).mul(1e9)) : scores.mul(1 / Math.sqrt(c.dHead))) as tf.Tensor4D);
      pattern = tf.softmax(scores, -1) as tf.Tensor4D;
    } else {
      scores = hook(hookName('attn.hook_attn_scores', l), (mask ? scores.mul(mask) : scores) as tf.Tensor4D);
      pattern = scores;
    }
    pattern = hook(hookName('attn.hook_pattern', l), pattern);

    const zh = tf.matMul(pattern, headsFirst(v)); // [B, H, Tq, dv]
    const z = hook(hookName('attn.hook_z', l), headsFirst(zh) as tf.Tensor4D); // [B, Tq, H, dv]
    const attnOut = hook(
      hookName('hook_attn_out', l),
      z.reshape([B * Tq, H * dV(c)]).matMul(params[`${p}.attn.W_O`].reshape([H * dV(c), d])).reshape([B, Tq, d]) as tf.Tensor3D,
    );

    let x: tf.Tensor3D = c.residual ? dense(qPos ? selectLast(resid, T) : resid).add(attnOut) : attnOut;
    x = hook(hookName('hook_resid_mid', l), x);
    if (c.mlp) {
      const mlpIn = c.layerNorm ? layerNorm(x, params[`${p}.ln2.w`], params[`${p}.ln2.b`]) : x;
      const pre = hook(hookName('mlp.hook_pre', l), linear(mlpIn, params[`${p}.mlp.W_in`], params[`${p}.mlp.b_in`]));
      const post = hook(hookName('mlp.hook_post', l), gelu(pre));
      const mlpOut = hook(hookName('hook_mlp_out', l), linear(post, params[`${p}.mlp.W_out`], params[`${p}.mlp.b_out`]));
      x = c.residual ? x.add(mlpOut) : mlpOut;
    }
    resid = { kind: 'dense', x: hook(hookName('hook_resid_post', l), x) };
  }

  let final = dense(resid);
  if (c.layerNorm) final = hook(hookName('ln_final.hook_normalized'), layerNorm(final, params['ln_final.w'], params['ln_final.b']));
  return { logits: unembed(c, params, final), cache };
}

export function unembed(c: ModelConfig, params: Params, x: tf.Tensor3D): tf.Tensor3D {
  if (c.unembed === 'identity') return x;
  const [B, T, d] = x.shape;
  const flat = x.reshape([B * T, d]);
  const logits = c.unembed === 'tied' ? tf.matMul(flat, params['embed.W_E'], false, true) : flat.matMul(params['unembed.W_U']).add(params['unembed.b_U']);
  return logits.reshape([B, T, c.dVocab]);
}

/** x [B, T, d_in] (or one-hot ids) times W [H, d_in, k] → [B, T, H, k]. A one-hot input is a row gather. */
function project(x: Resid, W: tf.Tensor): tf.Tensor4D {
  const [H, dIn, k] = W.shape;
  const flat = H === 1 ? W.reshape([dIn, k]) : W.transpose([1, 0, 2]).reshape([dIn, H * k]);
  if (x.kind === 'onehot') {
    const [B, T] = x.tokens.shape;
    return tf.gather(flat, x.tokens).reshape([B, T, H, k]);
  }
  const [B, T] = x.x.shape;
  return x.x.reshape([B * T, dIn]).matMul(flat).reshape([B, T, H, k]);
}

/** Swaps axes 1 and 2 ([B, T, H, k] ↔ [B, H, T, k]); a free reshape when there is one head. */
function headsFirst(x: tf.Tensor): tf.Tensor4D {
  const [a, b, c, d] = x.shape as [number, number, number, number];
  return (b === 1 || c === 1 ? x.reshape([a, c, b, d]) : x.transpose([0, 2, 1, 3])) as tf.Tensor4D;
}

function selectLast(r: Resid, T: number): Resid {
  if (r.kind === 'onehot') {
    const B = r.tokens.shape[0];
    return { kind: 'onehot', tokens: r.tokens.slice([0, T - 1], [B, 1]) };
  }
  const [B, , d] = r.x.shape;
  return { kind: 'dense', x: r.x.slice([0, T - 1, 0], [B, 1, d]) };
}

function linear(x: tf.Tensor3D, W: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  const [B, T, dIn] = x.shape;
  return x.reshape([B * T, dIn]).matMul(W).add(b).reshape([B, T, W.shape[1] as number]);
}

/** LayerNorm's ε (as TransformerLens / GPT-2): σ = sqrt(var + LN_EPS). Analyses that freeze σ use it too. */
export const LN_EPS = 1e-5;

/** LayerNorm over the last axis; the statistics are those of `x` itself. */
export function layerNorm(x: tf.Tensor3D, w: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  const mean = x.mean(-1, true);
  const centred = x.sub(mean);
  const variance = centred.square().mean(-1, true);
  return centred.div(variance.add(LN_EPS).sqrt()).mul(w).add(b);
}

/** GELU, tanh approximation (GPT-2's). */
function gelu(x: tf.Tensor3D): tf.Tensor3D {
  const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(inner.tanh().add(1));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function causalMask(queryPositions: readonly number[], T: number): tf.Tensor2D {
  const m = new Float32Array(queryPositions.length * T);
  queryPositions.forEach((qp, i) => {
    for (let j = 0; j <= qp; j++) m[i * T + j] = 1;
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
