// Shared by the kernels in this folder (an import, not a wasm export: only entry files export).

/** e^x for four lanes, x clamped to [−87.3, 88.4] (Cephes' expf: |relative error| ≲ 2 ulp). */
export function exp4(x: v128): v128 {
  // pmin / pmax and the rounding by a magic number map to single x86 instructions; wasm's min / max,
  // nearest and trunc_sat do not.
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(88.3762626647949)), f32x4.splat(-87.3365447504));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.4426950408889634)), f32x4.splat(12582912.0)); // + 1.5·2^23 rounds to an integer
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
  // 2^n from n's integer bits (t's low mantissa bits): (n + 127) << 23.
  const pow2n = i32x4.shl(i32x4.add(i32x4.sub(t, i32x4.splat(0x4b400000)), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2n);
}
