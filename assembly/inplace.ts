// Elementwise kernels that run inside tfjs-backend-wasm's own memory (imported: src/core/backend/kernels/
// inplaceKernels.ts), so tensors are read and written where they live, with no copy. This module must own
// no memory contents: no static data, no allocation (scripts/build-fused.mjs checks for a data section).
//
// GELU (tanh approximation, GPT-2's) forward and backward in one pass each. The composite tfjs ops it
// replaces for big tensors (Pow, Tanh, and seven Multiply / Add) are scalar libm loops or separate passes
// over memory; here 0.5·(1 + tanh u) = 1 / (1 + exp(−2u)), exp from a Cephes-style polynomial (≲ 2 ulp).
// It differs from the composite by float rounding, and is more accurate where x is very negative (the
// composite's 1 + tanh u cancels there).

const C: f32 = 0.7978845608028654; // sqrt(2 / π)
const A: f32 = 0.044715;

/** e^x for four lanes, x ≤ 88 (Cephes' expf, ≲ 2 ulp). */
function exp4(x: v128): v128 {
  x = f32x4.pmax(x, f32x4.splat(-87.3365447504));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.4426950408889634)), f32x4.splat(12582912.0));
  const n = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.sub(t, i32x4.splat(0x4b400000)), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2n);
}

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
