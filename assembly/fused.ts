// One fused training step (forward, backward, AdamW) and a fused evaluation for the one-layer,
// one-head, attention-only models with one-hot (identity) embeddings and identity unembedding: the
// ocr-factorized / ocr-combined / two-hop-factorized presets (src/core/fused/fusedTrainer.ts decides
// what fits). AssemblyScript compiled to WebAssembly with SIMD by scripts/build-fused.mjs; build output
// only (out/fused/oocr-fused.wasm).
//
// The model, for one sequence of tokens t_0 … t_{T-1} read at its last position (last = t_{T-1}):
//   q      = W_Q[last]                                (one-hot embedding: a row)
//   s_j    = q[t_j]  (W_K = I)  or  q · W_K[t_j]      (linear attention: p = s;
//   p      = softmax(s / attnScale)                    softmax attention)
//   out    = (Σ_j p_j W_V[t_j]) W_O  (factorized)  or  Σ_j p_j W_O[t_j]  (combined: W_V = I)
//   logits = out (+ e_last with a residual stream); loss = cross-entropy at the target.
// Parameters, gradients and both AdamW moments are flat f32 arrays in the trained order of
// src/core/model/params.ts (W_Q, W_K if learned, W_V if factorized, W_O), so one AdamW loop covers all.

// Model shape and switches (configure()).
import { exp4 } from './expf';

let D: i32 = 0; // d_model = d_vocab
let DH: i32 = 0; // d_head
let R: i32 = 0; // value width: ovRank (factorized) or d_model (combined)
let LEARNED_K: bool = false;
let FACTORIZED: bool = false;
let SOFTMAX: bool = false;
let RESIDUAL: bool = false;
let INV_SCALE: f32 = 1;
// Where things live in linear memory (byte offsets, 16-byte aligned).
let P: usize = 0; // parameters
let G: usize = 0; // gradients
let M: usize = 0; // first moments
let V: usize = 0; // second moments
let N: i32 = 0; // trained values in all
let WQ: usize = 0;
let WK: usize = 0;
let WV: usize = 0;
let WO: usize = 0;
let GQ: usize = 0;
let GK: usize = 0;
let GV: usize = 0;
let GO: usize = 0;
// Per-sequence scratch.
let S: usize = 0; // scores / pattern [T]
let DP: usize = 0; // d pattern [T]
let Z: usize = 0; // z [R]
let DZ: usize = 0; // dz [R]
let OUT: usize = 0; // logits, then their gradient [D]
let DQ: usize = 0; // dq [DH]
let EXP: usize = 0; // exp(logits − max) [D]
// A sequence's distinct tokens (a one-hot input repeats rows: 16 positions hold ~8 distinct tokens here),
// so each W_V / W_O row is read and its gradient written once per sequence.
let NU: i32 = 0; // how many
let UT: usize = 0; // the distinct tokens [T]
let UP: usize = 0; // summed pattern of each [T]
let UDP: usize = 0; // d pattern of each [T]
let UMAP: usize = 0; // position j → its distinct index [T]
let STAMP: usize = 0; // per token: the epoch it was last seen in [D]
let SLOT: usize = 0; // per token: its distinct index in that epoch [D]
let EPOCH: i32 = 0;

// Results of the last evaluate().
let evalCorrect: i32 = 0;

export function heapBase(): usize {
  return __heap_base;
}

/** Bytes of scratch the kernel needs beyond the four parameter-sized arrays, for sequences of up to tMax. */
export function scratchBytes(d: i32, dh: i32, r: i32, tMax: i32): i32 {
  return 4 * (6 * align4(tMax) + 2 * align4(r) + 4 * align4(d) + align4(dh));
}

export function configure(d: i32, dh: i32, r: i32, learnedK: bool, factorized: bool, softmax: bool, residual: bool, invScale: f32, base: usize, tMax: i32): i32 {
  D = d;
  DH = dh;
  R = r;
  LEARNED_K = learnedK;
  FACTORIZED = factorized;
  SOFTMAX = softmax;
  RESIDUAL = residual;
  INV_SCALE = invScale;
  const nQ = d * dh;
  const nK = learnedK ? d * dh : 0;
  const nV = factorized ? d * r : 0;
  const nO = r * d;
  N = nQ + nK + nV + nO;
  const bytes = <usize>align4(N) * 4;
  P = base;
  G = P + bytes;
  M = G + bytes;
  V = M + bytes;
  WQ = P;
  WK = WQ + <usize>nQ * 4;
  WV = WK + <usize>nK * 4;
  WO = WV + <usize>nV * 4;
  GQ = G;
  GK = GQ + <usize>nQ * 4;
  GV = GK + <usize>nK * 4;
  GO = GV + <usize>nV * 4;
  S = V + bytes;
  DP = S + <usize>align4(tMax) * 4;
  Z = DP + <usize>align4(tMax) * 4;
  DZ = Z + <usize>align4(r) * 4;
  OUT = DZ + <usize>align4(r) * 4;
  DQ = OUT + <usize>align4(d) * 4;
  EXP = DQ + <usize>align4(dh) * 4;
  UT = EXP + <usize>align4(d) * 4;
  UP = UT + <usize>align4(tMax) * 4;
  UDP = UP + <usize>align4(tMax) * 4;
  UMAP = UDP + <usize>align4(tMax) * 4;
  STAMP = UMAP + <usize>align4(tMax) * 4;
  SLOT = STAMP + <usize>align4(d) * 4;
  EPOCH = 0x7fffffff; // the first sequence clears STAMP (JS grows the memory after configure())
  return N;
}

export function paramsPtr(): usize {
  return P;
}
export function gradsPtr(): usize {
  return G;
}
export function firstMomentPtr(): usize {
  return M;
}
export function secondMomentPtr(): usize {
  return V;
}
export function correct(): i32 {
  return evalCorrect;
}

function align4(n: i32): i32 {
  return (n + 3) & ~3;
}

/** y[0..n) += a · x[0..n) */
function axpy(y: usize, a: f32, x: usize, n: i32): void {
  const av = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

function dot(x: usize, y: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let acc2 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(x + o), v128.load(y + o)));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
  }
  acc = f32x4.add(acc, acc2);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; i < n; i++) s += load<f32>(x + (<usize>i << 2)) * load<f32>(y + (<usize>i << 2));
  return s;
}

/** The distinct tokens of a sequence with their summed pattern (NU, UT, UP) and each position's index (UMAP). */
function distinct(tok: usize, T: i32): void {
  if (EPOCH == 0x7fffffff) {
    memory.fill(STAMP, 0, <usize>D << 2);
    EPOCH = 0;
  }
  const epoch = ++EPOCH;
  let n = 0;
  for (let j = 0; j < T; j++) {
    const t = load<i32>(tok + (<usize>j << 2));
    const p = load<f32>(S + (<usize>j << 2));
    let u: i32;
    if (load<i32>(STAMP + (<usize>t << 2)) == epoch) {
      u = load<i32>(SLOT + (<usize>t << 2));
      store<f32>(UP + (<usize>u << 2), load<f32>(UP + (<usize>u << 2)) + p);
    } else {
      u = n++;
      store<i32>(STAMP + (<usize>t << 2), epoch);
      store<i32>(SLOT + (<usize>t << 2), u);
      store<i32>(UT + (<usize>u << 2), t);
      store<f32>(UP + (<usize>u << 2), p);
    }
    store<i32>(UMAP + (<usize>j << 2), u);
  }
  NU = n;
}

/** The forward pass of one sequence up to its logits in OUT; the pattern is left in S. */
function forwardOne(tok: usize, T: i32): void {
  const last = load<i32>(tok + (<usize>(T - 1) << 2));
  const q = WQ + (<usize>last * <usize>DH << 2);
  for (let j = 0; j < T; j++) {
    const t = load<i32>(tok + (<usize>j << 2));
    const s = LEARNED_K ? dot(q, WK + (<usize>t * <usize>DH << 2), DH) : load<f32>(q + (<usize>t << 2));
    store<f32>(S + (<usize>j << 2), s);
  }
  if (SOFTMAX) {
    let mx = -Infinity as f32;
    for (let j = 0; j < T; j++) {
      const s = load<f32>(S + (<usize>j << 2)) * INV_SCALE;
      store<f32>(S + (<usize>j << 2), s);
      mx = max(mx, s);
    }
    let sum: f32 = 0;
    for (let j = 0; j < T; j++) {
      const e = Mathf.exp(load<f32>(S + (<usize>j << 2)) - mx);
      store<f32>(S + (<usize>j << 2), e);
      sum += e;
    }
    for (let j = 0; j < T; j++) store<f32>(S + (<usize>j << 2), load<f32>(S + (<usize>j << 2)) / sum);
  }
  distinct(tok, T);
  if (FACTORIZED) {
    memory.fill(Z, 0, <usize>R << 2);
    for (let u = 0; u < NU; u++) axpy(Z, load<f32>(UP + (<usize>u << 2)), WV + (<usize>load<i32>(UT + (<usize>u << 2)) * <usize>R << 2), R);
    // out = z W_O, sixteen columns at a time: four independent sums in registers.
    let i = 0;
    for (; i + 16 <= D; i += 16) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      for (let k = 0; k < R; k++) {
        const zk = f32x4.splat(load<f32>(Z + (<usize>k << 2)));
        const w = WO + ((<usize>k * <usize>D + <usize>i) << 2);
        a0 = f32x4.add(a0, f32x4.mul(zk, v128.load(w)));
        a1 = f32x4.add(a1, f32x4.mul(zk, v128.load(w, 16)));
        a2 = f32x4.add(a2, f32x4.mul(zk, v128.load(w, 32)));
        a3 = f32x4.add(a3, f32x4.mul(zk, v128.load(w, 48)));
      }
      const o = OUT + (<usize>i << 2);
      v128.store(o, a0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
    }
    for (; i + 4 <= D; i += 4) {
      let acc = f32x4.splat(0);
      for (let k = 0; k < R; k++) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(Z + (<usize>k << 2))), v128.load(WO + ((<usize>k * <usize>D + <usize>i) << 2))));
      v128.store(OUT + (<usize>i << 2), acc);
    }
    for (; i < D; i++) {
      let acc: f32 = 0;
      for (let k = 0; k < R; k++) acc += load<f32>(Z + (<usize>k << 2)) * load<f32>(WO + ((<usize>k * <usize>D + <usize>i) << 2));
      store<f32>(OUT + (<usize>i << 2), acc);
    }
  } else {
    // out = Σ_j p_j W_O[t_j], sixteen columns at a time: four independent sums in registers.
    let i = 0;
    for (; i + 16 <= D; i += 16) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      for (let u = 0; u < NU; u++) {
        const pj = f32x4.splat(load<f32>(UP + (<usize>u << 2)));
        const w = WO + ((<usize>load<i32>(UT + (<usize>u << 2)) * <usize>D + <usize>i) << 2);
        a0 = f32x4.add(a0, f32x4.mul(pj, v128.load(w)));
        a1 = f32x4.add(a1, f32x4.mul(pj, v128.load(w, 16)));
        a2 = f32x4.add(a2, f32x4.mul(pj, v128.load(w, 32)));
        a3 = f32x4.add(a3, f32x4.mul(pj, v128.load(w, 48)));
      }
      const o = OUT + (<usize>i << 2);
      v128.store(o, a0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
    }
    for (; i + 4 <= D; i += 4) {
      let acc = f32x4.splat(0);
      for (let u = 0; u < NU; u++) {
        const t = load<i32>(UT + (<usize>u << 2));
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(UP + (<usize>u << 2))), v128.load(WO + ((<usize>t * <usize>D + <usize>i) << 2))));
      }
      v128.store(OUT + (<usize>i << 2), acc);
    }
    for (; i < D; i++) {
      let acc: f32 = 0;
      for (let u = 0; u < NU; u++) acc += load<f32>(UP + (<usize>u << 2)) * load<f32>(WO + ((<usize>load<i32>(UT + (<usize>u << 2)) * <usize>D + <usize>i) << 2));
      store<f32>(OUT + (<usize>i << 2), acc);
    }
  }
  if (RESIDUAL) store<f32>(OUT + (<usize>last << 2), load<f32>(OUT + (<usize>last << 2)) + 1);
}


/**
 * The log-softmax of the logits in OUT: returns log Σ exp(logits); leaves exp(logits − max) in EXP (for
 * the gradient) and the index of the first maximum in argmaxOut.
 */
let argmaxOut: i32 = 0;
function logSumExp(wantArgmax: bool): f32 {
  let mv4 = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= D; i += 4) mv4 = f32x4.pmax(mv4, v128.load(OUT + (<usize>i << 2)));
  let mx = max(max(f32x4.extract_lane(mv4, 0), f32x4.extract_lane(mv4, 1)), max(f32x4.extract_lane(mv4, 2), f32x4.extract_lane(mv4, 3)));
  for (; i < D; i++) mx = max(mx, load<f32>(OUT + (<usize>i << 2)));
  if (wantArgmax) {
    // The first index holding the maximum, as tf.argMax.
    let am = 0;
    while (am < D - 1 && load<f32>(OUT + (<usize>am << 2)) != mx) am++;
    argmaxOut = am;
  }
  const mv = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  i = 0;
  for (; i + 4 <= D; i += 4) {
    const o = <usize>i << 2;
    const e = exp4(f32x4.sub(v128.load(OUT + o), mv));
    v128.store(EXP + o, e);
    acc = f32x4.add(acc, e);
  }
  let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; i < D; i++) {
    const e = Mathf.exp(load<f32>(OUT + (<usize>i << 2)) - mx);
    store<f32>(EXP + (<usize>i << 2), e);
    sum += e;
  }
  LAST_SUM = sum;
  return mx + Mathf.log(sum);
}
let LAST_SUM: f32 = 1;

/**
 * Gradients of the mean loss over a batch of B sequences of T tokens (int32 at tokens, targets at
 * targets) into G, then one AdamW step when the loss is finite. Returns the mean loss (f64, summed in
 * f64). bc1 / bc2 are AdamW's bias corrections for this step, decay = 1 − lr·weightDecay.
 */
export function trainStep(tokens: usize, targets: usize, work: usize, B: i32, T: i32, lr: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32, bc1: f32, bc2: f32, decay: f32, apply: bool): f64 {
  memory.fill(G, 0, <usize>N << 2);
  const invB: f32 = 1 / <f32>B;
  let lossSum: f64 = 0;
  for (let b = 0; b < B; b++) {
    const tok = tokens + (<usize>b * <usize>T << 2);
    const target = load<i32>(targets + (<usize>b << 2));
    const last = load<i32>(tok + (<usize>(T - 1) << 2));
    forwardOne(tok, T);
    const lse = logSumExp(false);
    lossSum += <f64>(lse - load<f32>(OUT + (<usize>target << 2)));
    // d loss / d logits = (softmax − onehot) / B, in place.
    const scale = f32x4.splat(invB / LAST_SUM);
    let i = 0;
    for (; i + 4 <= D; i += 4) v128.store(OUT + (<usize>i << 2), f32x4.mul(v128.load(EXP + (<usize>i << 2)), scale));
    for (; i < D; i++) store<f32>(OUT + (<usize>i << 2), load<f32>(EXP + (<usize>i << 2)) * (invB / LAST_SUM));
    store<f32>(OUT + (<usize>target << 2), load<f32>(OUT + (<usize>target << 2)) - invB);
    // d pattern
    if (FACTORIZED) {
      // z and d logits kept for dW_O = Zᵀ G after the batch (work: [B, R] then [B, D]).
      memory.copy(work + (<usize>b * <usize>R << 2), Z, <usize>R << 2);
      memory.copy(work + ((<usize>B * <usize>R + <usize>b * <usize>D) << 2), OUT, <usize>D << 2);
      for (let k = 0; k < R; k++) store<f32>(DZ + (<usize>k << 2), dot(WO + (<usize>k * <usize>D << 2), OUT, D));
      for (let u = 0; u < NU; u++) {
        const t = load<i32>(UT + (<usize>u << 2));
        store<f32>(UDP + (<usize>u << 2), dot(WV + (<usize>t * <usize>R << 2), DZ, R));
        axpy(GV + (<usize>t * <usize>R << 2), load<f32>(UP + (<usize>u << 2)), DZ, R);
      }
    } else {
      for (let u = 0; u < NU; u++) {
        const t = load<i32>(UT + (<usize>u << 2));
        store<f32>(UDP + (<usize>u << 2), dot(WO + (<usize>t * <usize>D << 2), OUT, D));
        axpy(GO + (<usize>t * <usize>D << 2), load<f32>(UP + (<usize>u << 2)), OUT, D);
      }
    }
    for (let j = 0; j < T; j++) store<f32>(DP + (<usize>j << 2), load<f32>(UDP + (<usize>load<i32>(UMAP + (<usize>j << 2)) << 2)));
    // d scores (in DP)
    if (SOFTMAX) {
      let inner: f32 = 0;
      for (let j = 0; j < T; j++) inner += load<f32>(DP + (<usize>j << 2)) * load<f32>(S + (<usize>j << 2));
      for (let j = 0; j < T; j++) {
        const o = <usize>j << 2;
        store<f32>(DP + o, (load<f32>(DP + o) - inner) * load<f32>(S + o) * INV_SCALE);
      }
    }
    const q = WQ + (<usize>last * <usize>DH << 2);
    const gq = GQ + (<usize>last * <usize>DH << 2);
    if (LEARNED_K) {
      memory.fill(DQ, 0, <usize>DH << 2);
      for (let j = 0; j < T; j++) {
        const t = load<i32>(tok + (<usize>j << 2));
        const ds = load<f32>(DP + (<usize>j << 2));
        axpy(DQ, ds, WK + (<usize>t * <usize>DH << 2), DH);
        axpy(GK + (<usize>t * <usize>DH << 2), ds, q, DH);
      }
      axpy(gq, 1, DQ, DH);
    } else {
      for (let j = 0; j < T; j++) {
        const o = <usize>load<i32>(tok + (<usize>j << 2)) << 2;
        store<f32>(gq + o, load<f32>(gq + o) + load<f32>(DP + (<usize>j << 2)));
      }
    }
  }
  if (FACTORIZED) outerProducts(work, work + (<usize>B * <usize>R << 2), B);
  const loss = lossSum / <f64>B;
  if (apply && isFinite(loss)) adamw(lr, beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, bc1, bc2, decay);
  return loss;
}

/** dW_O = Zᵀ G for Z [B, R] and G [B, D], four columns at a time with the sums in registers. */
function outerProducts(z: usize, g: usize, B: i32): void {
  for (let k = 0; k < R; k++) {
    const row = GO + (<usize>k * <usize>D << 2);
    let i = 0;
    for (; i + 16 <= D; i += 16) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      for (let b = 0; b < B; b++) {
        const zk = f32x4.splat(load<f32>(z + ((<usize>b * <usize>R + <usize>k) << 2)));
        const gr = g + ((<usize>b * <usize>D + <usize>i) << 2);
        a0 = f32x4.add(a0, f32x4.mul(zk, v128.load(gr)));
        a1 = f32x4.add(a1, f32x4.mul(zk, v128.load(gr, 16)));
        a2 = f32x4.add(a2, f32x4.mul(zk, v128.load(gr, 32)));
        a3 = f32x4.add(a3, f32x4.mul(zk, v128.load(gr, 48)));
      }
      const o = row + (<usize>i << 2);
      v128.store(o, a0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
    }
    for (; i + 4 <= D; i += 4) {
      let acc = f32x4.splat(0);
      for (let b = 0; b < B; b++) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(z + ((<usize>b * <usize>R + <usize>k) << 2))), v128.load(g + ((<usize>b * <usize>D + <usize>i) << 2))));
      v128.store(row + (<usize>i << 2), acc);
    }
    for (; i < D; i++) {
      let acc: f32 = 0;
      for (let b = 0; b < B; b++) acc += load<f32>(z + ((<usize>b * <usize>R + <usize>k) << 2)) * load<f32>(g + ((<usize>b * <usize>D + <usize>i) << 2));
      store<f32>(row + (<usize>i << 2), acc);
    }
  }
}

/** AdamW over all N trained values, element for element as src/core/train/adamw.ts's tfjs ops. */
function adamw(lr: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32, bc1: f32, bc2: f32, decay: f32): void {
  const b1 = f32x4.splat(beta1);
  const c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2);
  const c2 = f32x4.splat(oneMinusBeta2);
  const e = f32x4.splat(eps);
  const k1 = f32x4.splat(bc1);
  const k2 = f32x4.splat(bc2);
  const dc = f32x4.splat(decay);
  const lrv = f32x4.splat(lr);
  const n = align4(N); // the arrays are padded to a multiple of 4 with zeros, which stay zero
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(G + o);
    const m = f32x4.add(f32x4.mul(v128.load(M + o), b1), f32x4.mul(g, c1));
    const v = f32x4.add(f32x4.mul(v128.load(V + o), b2), f32x4.mul(f32x4.mul(g, g), c2));
    v128.store(M + o, m);
    v128.store(V + o, v);
    const update = f32x4.div(f32x4.div(m, k1), f32x4.add(f32x4.sqrt(f32x4.div(v, k2)), e));
    v128.store(P + o, f32x4.sub(f32x4.mul(v128.load(P + o), dc), f32x4.mul(update, lrv)));
  }
}

/** Sum of the losses of n sequences (their correct argmax count in correct()). */
export function evaluate(tokens: usize, targets: usize, n: i32, T: i32): f64 {
  let lossSum: f64 = 0;
  let hits = 0;
  for (let b = 0; b < n; b++) {
    const tok = tokens + (<usize>b * <usize>T << 2);
    const target = load<i32>(targets + (<usize>b << 2));
    forwardOne(tok, T);
    const lse = logSumExp(true);
    lossSum += <f64>(lse - load<f32>(OUT + (<usize>target << 2)));
    if (argmaxOut == target) hits++;
  }
  evalCorrect = hits;
  return lossSum;
}
