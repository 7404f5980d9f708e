// Elementwise kernels that run inside tfjs-backend-wasm's own memory (imported: src/core/backend/kernels/
// inplaceKernels.ts), so tensors are read and written where they live, with no copy. This module must own
// no memory contents: no static data, no allocation (scripts/build-fused.mjs checks for a data section).
//
// GELU (tanh approximation, GPT-2's) forward and backward in one pass each. The composite tfjs ops it
// replaces for big tensors (Pow, Tanh, and seven Multiply / Add) are scalar libm loops or separate passes
// over memory; here 0.5·(1 + tanh u) = 1 / (1 + exp(−2u)), exp from a Cephes-style polynomial (≲ 2 ulp).
// It differs from the composite by float rounding, and is more accurate where x is very negative (the
// composite's 1 + tanh u cancels there).

import { exp4 } from './expf';

const C: f32 = 0.7978845608028654; // sqrt(2 / π)
const A: f32 = 0.044715;


function inner(x: v128): v128 {
  return f32x4.mul(f32x4.splat(C), f32x4.add(x, f32x4.mul(f32x4.splat(A), f32x4.mul(x, f32x4.mul(x, x)))));
}

/** e = exp(−2u), its argument capped at 80 so that e, e·s and 1 + e stay finite (e^80 ≈ 5.5e34). */
function expMinus2u(x: v128): v128 {
  return exp4(f32x4.pmin(f32x4.mul(inner(x), f32x4.splat(-2)), f32x4.splat(80)));
}

/** 0.5·x·(1 + tanh u) = x·s with s = 1 / (1 + e): no 1 + tanh u to cancel where tanh u ≈ −1. */
function geluVec(x: v128): v128 {
  return f32x4.div(x, f32x4.add(f32x4.splat(1), expMinus2u(x)));
}

/** d gelu / dx · dy = (s + 2x·s·(1 − s)·du/dx) · dy, with 1 − s = e·s and du/dx = C·(1 + 3A·x²). */
function geluGradVec(x: v128, dy: v128): v128 {
  const e = expMinus2u(x);
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  const du = f32x4.mul(f32x4.splat(C), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(3 * A), f32x4.mul(x, x))));
  const g = f32x4.add(s, f32x4.mul(f32x4.mul(f32x4.mul(f32x4.splat(2), x), f32x4.mul(s, f32x4.mul(e, s))), du));
  return f32x4.mul(g, dy);
}

/** y[i] = gelu(x[i]) for n floats (x and y may be the same). */
export function geluForward(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, geluVec(v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32x4.extract_lane(geluVec(f32x4.splat(load<f32>(x + o))), 0));
  }
}

/** dx[i] = gelu'(x[i]) · dy[i] for n floats. */
export function geluBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, geluGradVec(v128.load(x + o), v128.load(dy + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, f32x4.extract_lane(geluGradVec(f32x4.splat(load<f32>(x + o)), f32x4.splat(load<f32>(dy + o))), 0));
  }
}

/**
 * One AdamW step over n floats, writing new tensors (p2, m2, v2): tfjs tensors are immutable and may share
 * buffers. The same float32 operations in the same order as src/core/train/adamw.ts's tfjs ops, each
 * rounded once (IEEE multiply, add, divide and square root, lane by lane), so the result is bit-identical:
 *   m2 = m·β1 + g·(1 − β1);  v2 = v·β2 + g²·(1 − β2)
 *   p2 = p·(1 − lr·λ) − (m2 / bc1) / (√(v2 / bc2) + ε) · lr
 * The scalars arrive as the float32 values tfjs's scalar tensors hold.
 */
export function adamw(p: usize, g: usize, m: usize, v: usize, p2: usize, m2: usize, v2: usize, n: i32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, bc1: f32, bc2: f32, eps: f32, decay: f32, lr: f32): void {
  let i = 0;
  const b1 = f32x4.splat(beta1);
  const c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2);
  const c2 = f32x4.splat(oneMinusBeta2);
  const k1 = f32x4.splat(bc1);
  const k2 = f32x4.splat(bc2);
  const e = f32x4.splat(eps);
  const d = f32x4.splat(decay);
  const l = f32x4.splat(lr);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const mv = f32x4.add(f32x4.mul(v128.load(m + o), b1), f32x4.mul(gv, c1));
    const vv = f32x4.add(f32x4.mul(v128.load(v + o), b2), f32x4.mul(f32x4.mul(gv, gv), c2));
    const update = f32x4.div(f32x4.div(mv, k1), f32x4.add(f32x4.sqrt(f32x4.div(vv, k2)), e));
    v128.store(m2 + o, mv);
    v128.store(v2 + o, vv);
    v128.store(p2 + o, f32x4.sub(f32x4.mul(v128.load(p + o), d), f32x4.mul(update, l)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gv = load<f32>(g + o);
    const mv = load<f32>(m + o) * beta1 + gv * oneMinusBeta1;
    const vv = load<f32>(v + o) * beta2 + gv * gv * oneMinusBeta2;
    const update = mv / bc1 / (Mathf.sqrt(vv / bc2) + eps);
    store<f32>(m2 + o, mv);
    store<f32>(v2 + o, vv);
    store<f32>(p2 + o, load<f32>(p + o) * decay - update * lr);
  }
}

/**
 * out[j] = (((0 + x[0][j]) + x[1][j]) + …) over `rows` rows of `cols` floats: tfjs-backend-wasm's Sum
 * order for leading axes (src/core/backend/kernels/Sum_wasm.ts), each lane a column of its own, so the
 * same additions in the same order. Sixteen columns at a time stay in registers over all the rows.
 */
export function sumRows(x: usize, out: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  let j = 0;
  for (; j + 16 <= cols; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let p = x + (<usize>j << 2);
    for (let r = 0; r < rows; r++) {
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32));
      a3 = f32x4.add(a3, v128.load(p, 48));
      p += stride;
    }
    const o = out + (<usize>j << 2);
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
  }
  for (; j + 4 <= cols; j += 4) {
    let a = f32x4.splat(0);
    let p = x + (<usize>j << 2);
    for (let r = 0; r < rows; r++) {
      a = f32x4.add(a, v128.load(p));
      p += stride;
    }
    v128.store(out + (<usize>j << 2), a);
  }
  for (; j < cols; j++) {
    let a: f32 = 0;
    let p = x + (<usize>j << 2);
    for (let r = 0; r < rows; r++) {
      a += load<f32>(p);
      p += stride;
    }
    store<f32>(out + (<usize>j << 2), a);
  }
}

/** dst[i·reps + r] = src[i] for 32-bit elements (a trailing axis of 1 broadcast to `reps`: bit copies). */
export function repeatEach(src: usize, dst: usize, n: i32, reps: i32): void {
  let d = dst;
  for (let i = 0; i < n; i++) {
    const v = v128.load32_splat(src + (<usize>i << 2));
    let r = 0;
    for (; r + 4 <= reps; r += 4) {
      v128.store(d, v);
      d += 16;
    }
    for (; r < reps; r++) {
      v128.store32_lane(d, v, 0);
      d += 4;
    }
  }
}

function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * LayerNorm over the last axis of R rows of D floats (D a multiple of 4): y = (x − mean)·rstd·w + b with
 * rstd = 1/√(var + eps), var the biased variance; mean and rstd kept per row for the backward pass.
 */
export function layerNormForward(x: usize, w: usize, b: usize, y: usize, mean: usize, rstd: usize, R: i32, D: i32, eps: f32): void {
  const rowBytes = <usize>D << 2;
  const invD: f32 = 1 / <f32>D;
  for (let r = 0; r < R; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let s = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) s = f32x4.add(s, v128.load(xr + o));
    const m = hsum(s) * invD;
    const mv = f32x4.splat(m);
    let q = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const c = f32x4.sub(v128.load(xr + o), mv);
      q = f32x4.add(q, f32x4.mul(c, c));
    }
    const rs: f32 = 1 / Mathf.sqrt(hsum(q) * invD + eps);
    const rv = f32x4.splat(rs);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const n = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      v128.store(yr + o, f32x4.add(f32x4.mul(n, v128.load(w + o)), v128.load(b + o)));
    }
    store<f32>(mean + (<usize>r << 2), m);
    store<f32>(rstd + (<usize>r << 2), rs);
  }
}

/**
 * LayerNorm's gradients from dy: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w and x̂ the
 * normalised input; dw = Σ_rows dy·x̂, db = Σ_rows dy.
 */
export function layerNormBackward(dy: usize, x: usize, w: usize, mean: usize, rstd: usize, dx: usize, dw: usize, db: usize, R: i32, D: i32): void {
  const rowBytes = <usize>D << 2;
  const invD: f32 = 1 / <f32>D;
  for (let o: usize = 0; o < rowBytes; o += 16) {
    v128.store(dw + o, f32x4.splat(0));
    v128.store(db + o, f32x4.splat(0));
  }
  for (let r = 0; r < R; r++) {
    const xr = x + <usize>r * rowBytes;
    const dyr = dy + <usize>r * rowBytes;
    const dxr = dx + <usize>r * rowBytes;
    const mv = f32x4.splat(load<f32>(mean + (<usize>r << 2)));
    const rs = load<f32>(rstd + (<usize>r << 2));
    const rv = f32x4.splat(rs);
    let sg = f32x4.splat(0);
    let sgx = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const d = v128.load(dyr + o);
      const n = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      const g = f32x4.mul(d, v128.load(w + o));
      sg = f32x4.add(sg, g);
      sgx = f32x4.add(sgx, f32x4.mul(g, n));
      v128.store(dw + o, f32x4.add(v128.load(dw + o), f32x4.mul(d, n)));
      v128.store(db + o, f32x4.add(v128.load(db + o), d));
    }
    const a = f32x4.splat(hsum(sg) * invD);
    const c = f32x4.splat(hsum(sgx) * invD);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const n = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      const g = f32x4.mul(v128.load(dyr + o), v128.load(w + o));
      v128.store(dxr + o, f32x4.mul(rv, f32x4.sub(f32x4.sub(g, a), f32x4.mul(n, c))));
    }
  }
}
