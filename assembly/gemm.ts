// Matrix products for the wasm backend: C[M, N] = A[M, K] · B[K, N] in float32, over a shared memory so
// several threads (src/core/backend/gemm/gemmPool.ts) each compute their own rows of C. Compiled twice by
// scripts/build-fused.mjs: with relaxed SIMD's fused multiply-add (f32x4.relaxed_madd, one rounding) and
// with a separate multiply and add, for runtimes without relaxed SIMD. The memory is the caller's: every
// pointer is a byte offset that gemmPool.ts chose.
//
// Why not tfjs-backend-wasm's own matmul (XNNPACK): it is single-threaded in Node and its wasm build has no
// FMA, so it tops out at ~25 GFLOP/s on one core; this kernel reaches ~32 per thread on the same core.
//
// A element (i, k) lives at A + 4·(i·sI + k·sK), so a transposed A is just other strides. B is packed
// first (packB) into panels of 8 columns, K rows each, zero-padded past N, which also folds in B's
// transpose. Each element of C is one chain of multiply-adds over k in order, in blocks of KC (the block's
// sum is added to C), so the result does not depend on how rows are split between threads.

const KC: i32 = 256;
const NP: i32 = 64;
/**
 * tfjs-backend-wasm's own batched matmul (its C++ slow_batch_matmul, used for every batch of more than
 * one) sums k in blocks of 48: out += (((0 + a₀b₀) + a₁b₁) + …) per block, each product and sum rounded.
 * The Exact kernels below do the same, so they give its bits (test/core/gemmPool.test.ts checks).
 */
const KC_EXACT: i32 = 48;

/** Kernel flavours, as a type parameter: Fast (this build's multiply-add, KC-deep blocks) or Exact. */
type Fast = f32;
type Exact = f64;

function madd<F>(a: v128, b: v128, c: v128): v128 {
  if (sizeof<F>() == 8) return f32x4.add(c, f32x4.mul(a, b));
  return FMA ? f32x4.relaxed_madd(a, b, c) : f32x4.add(f32x4.mul(a, b), c);
}

/** Panels of 8 columns: panel p holds B[k, 8p .. 8p + 8) for k = 0 .. K − 1, 32 bytes a row, zeros past N. */
export function packB(B: usize, K: i32, N: i32, transB: bool, Bp: usize): void {
  const panels = (N + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const j0 = p << 3;
    const dst = Bp + ((<usize>p * <usize>K) << 5);
    const full = j0 + 8 <= N;
    if (!transB && full) {
      for (let k = 0; k < K; k++) {
        const src = B + ((<usize>k * <usize>N + <usize>j0) << 2);
        const d = dst + (<usize>k << 5);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
      }
    } else {
      for (let jj = 0; jj < 8; jj++) {
        const j = j0 + jj;
        for (let k = 0; k < K; k++) {
          let v: f32 = 0;
          if (j < N) v = transB ? load<f32>(B + ((<usize>j * <usize>K + <usize>k) << 2)) : load<f32>(B + ((<usize>k * <usize>N + <usize>j) << 2));
          store<f32>(dst + (<usize>k << 5) + (<usize>jj << 2), v);
        }
      }
    }
  }
}

/**
 * Rows [i0, i1) of C (row stride N) from A (strides sI, sK, in elements) and the packed B. `tile` is 192
 * bytes of scratch for the last, partial panel.
 */
export function gemmRows(A: usize, sI: i32, sK: i32, Bp: usize, C: usize, i0: i32, i1: i32, K: i32, N: i32, tile: usize): void {
  rows<Fast>(A, sI, sK, Bp, C, i0, i1, K, N, tile);
}

function rows<F>(A: usize, sI: i32, sK: i32, Bp: usize, C: usize, i0: i32, i1: i32, K: i32, N: i32, tile: usize): void {
  const panels = (N + 7) >> 3;
  const depth = sizeof<F>() == 8 ? KC_EXACT : KC;
  for (let k0 = 0; k0 < K; k0 += depth) {
    const kc = min(depth, K - k0);
    const accumulate = k0 > 0;
    // NP panels of KC rows (512 KiB) stay in L2 while every row block of A passes over them.
    for (let p0 = 0; p0 < panels; p0 += NP) {
      const p1 = min(panels, p0 + NP);
      let i = i0;
      for (; i + 6 <= i1; i += 6) {
        for (let p = p0; p < p1; p++) block6<F>(A, sI, sK, Bp, C, i, p, k0, kc, K, N, accumulate, tile);
      }
      for (; i < i1; i++) {
        for (let p = p0; p < p1; p++) block1<F>(A, sI, sK, Bp, C, i, p, k0, kc, K, N, accumulate, tile);
      }
    }
  }
}

function rowOut(C: usize, N: i32, i: i32, j0: i32): usize {
  return C + ((<usize>i * <usize>N + <usize>j0) << 2);
}

/** Adds (or stores) one row's 8 results at C[i, j0 ..], through `tile` when the panel passes N. */
function put(C: usize, N: i32, i: i32, j0: i32, lo: v128, hi: v128, accumulate: bool, tile: usize): void {
  const c = rowOut(C, N, i, j0);
  if (j0 + 8 <= N) {
    if (accumulate) {
      lo = f32x4.add(v128.load(c), lo);
      hi = f32x4.add(v128.load(c, 16), hi);
    }
    v128.store(c, lo);
    v128.store(c, hi, 16);
  } else {
    v128.store(tile, lo);
    v128.store(tile, hi, 16);
    for (let jj = 0; jj < N - j0; jj++) {
      const o = c + (<usize>jj << 2);
      const v = load<f32>(tile + (<usize>jj << 2));
      store<f32>(o, accumulate ? load<f32>(o) + v : v);
    }
  }
}

function block6<F>(A: usize, sI: i32, sK: i32, Bp: usize, C: usize, i: i32, p: i32, k0: i32, kc: i32, K: i32, N: i32, accumulate: bool, tile: usize): void {
  const si = <usize>sI << 2;
  const sk = <usize>sK << 2;
  let a = A + (<usize>i * <usize>sI + <usize>k0 * <usize>sK) * 4;
  let b = Bp + ((<usize>p * <usize>K + <usize>k0) << 5);
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0), c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd<F>(x, b0, c00);
    c01 = madd<F>(x, b1, c01);
    x = v128.load32_splat(a + si);
    c10 = madd<F>(x, b0, c10);
    c11 = madd<F>(x, b1, c11);
    x = v128.load32_splat(a + 2 * si);
    c20 = madd<F>(x, b0, c20);
    c21 = madd<F>(x, b1, c21);
    x = v128.load32_splat(a + 3 * si);
    c30 = madd<F>(x, b0, c30);
    c31 = madd<F>(x, b1, c31);
    x = v128.load32_splat(a + 4 * si);
    c40 = madd<F>(x, b0, c40);
    c41 = madd<F>(x, b1, c41);
    x = v128.load32_splat(a + 5 * si);
    c50 = madd<F>(x, b0, c50);
    c51 = madd<F>(x, b1, c51);
    a += sk;
    b += 32;
  }
  const j0 = p << 3;
  put(C, N, i, j0, c00, c01, accumulate, tile);
  put(C, N, i + 1, j0, c10, c11, accumulate, tile);
  put(C, N, i + 2, j0, c20, c21, accumulate, tile);
  put(C, N, i + 3, j0, c30, c31, accumulate, tile);
  put(C, N, i + 4, j0, c40, c41, accumulate, tile);
  put(C, N, i + 5, j0, c50, c51, accumulate, tile);
}

/** One row: the same chain of multiply-adds per element as block6<F>, so a row's result is the same in either. */
function block1<F>(A: usize, sI: i32, sK: i32, Bp: usize, C: usize, i: i32, p: i32, k0: i32, kc: i32, K: i32, N: i32, accumulate: bool, tile: usize): void {
  const sk = <usize>sK << 2;
  let a = A + (<usize>i * <usize>sI + <usize>k0 * <usize>sK) * 4;
  let b = Bp + ((<usize>p * <usize>K + <usize>k0) << 5);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(a);
    c0 = madd<F>(x, v128.load(b), c0);
    c1 = madd<F>(x, v128.load(b, 16), c1);
    a += sk;
    b += 32;
  }
  put(C, N, i, p << 3, c0, c1, accumulate, tile);
}

/**
 * Batch entries [e0, e1) of a batched product (attention's per-head products): each entry's B is packed
 * into this thread's Bp, then all its rows computed. Strides are in elements; a stride of 0 broadcasts
 * one matrix to every entry. `exact` gives tfjs-backend-wasm's own batched bits (KC_EXACT); otherwise an
 * entry's result is the same as unbatched.
 */
export function gemmBatch(A: usize, sI: i32, sK: i32, strideA: i32, B: usize, transB: bool, strideB: i32, C: usize, strideC: i32, e0: i32, e1: i32, M: i32, K: i32, N: i32, Bp: usize, tile: usize, exact: bool): void {
  for (let e = e0; e < e1; e++) {
    if (e == e0 || strideB != 0) packB(B + ((<usize>e * <usize>strideB) << 2), K, N, transB, Bp);
    const a = A + ((<usize>e * <usize>strideA) << 2);
    const c = C + ((<usize>e * <usize>strideC) << 2);
    if (exact) rows<Exact>(a, sI, sK, Bp, c, 0, M, K, N, tile);
    else rows<Fast>(a, sI, sK, Bp, c, 0, M, K, N, tile);
  }
}
