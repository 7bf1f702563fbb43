// Helpers shared by the AssemblyScript kernels (see src/wasm/README.md for the rules every kernel
// follows). Everything here is inlined: no static data, no managed objects, no shadow stack.

/**
 * Start of part `part` of `parts` contiguous parts of 0..n, each a multiple of `granule` long
 * (except the last): part p covers partStart(p) .. partStart(p + 1).
 */
@inline
export function partStart(part: i32, parts: i32, n: i32, granule: i32): i32 {
  const units = (n + granule - 1) / granule;
  const per = ((units + parts - 1) / parts) * granule;
  const start = part * per;
  return start < n ? start : n;
}

/** Byte address of f32/i32 element i of the array at p. */
@inline
export function at4(p: usize, i: i32): usize {
  return p + ((<usize>i) << 2);
}

// ---------------------------------------------------------------------------------------------
// exp and log. AssemblyScript's Mathf.exp/log use lookup tables (static data), which kernels may not
// have, so these are Cephes' expf (a degree-5 polynomial after range reduction by ln 2, within 2 ulp
// over f32's range) and a log in f64 through the atanh series. The scalar and SIMD exp give the same
// values, so a kernel's vector body and scalar tail agree.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_HI: f32 = 88.3762626647949;
const EXP_LO: f32 = -88.3762626647949;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
/** Above this, e^x overflows f32. */
const EXP_OVERFLOW: f32 = 88.72283935546875;

@inline
export function expf(x: f32): f32 {
  const big = x > EXP_OVERFLOW;
  let v = x < EXP_LO ? EXP_LO : x > EXP_HI ? EXP_HI : x;
  if (x != x) v = x;
  const n = Mathf.floor(v * LOG2E + 0.5);
  const r = v - n * LN2_HI - n * LN2_LO;
  const z = r * r;
  let y = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
  y = y * z + r + 1.0;
  const scale = reinterpret<f32>((<i32>n + 127) << 23);
  return big ? Infinity : y * scale;
}

@inline
export function expf4(x: v128): v128 {
  const big = f32x4.gt(x, f32x4.splat(EXP_OVERFLOW));
  const v = f32x4.min(f32x4.max(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const n = f32x4.floor(f32x4.add(f32x4.mul(v, f32x4.splat(LOG2E)), f32x4.splat(0.5)));
  const r = f32x4.sub(f32x4.sub(v, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  const z = f32x4.mul(r, r);
  let y = f32x4.add(f32x4.mul(f32x4.splat(P0), r), f32x4.splat(P1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(P2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(P3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(P4));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(P5));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.bitselect(f32x4.splat(Infinity), f32x4.mul(y, scale), big);
}

/** Natural log in f64 (for a handful of values per row: log-sum-exp), NaN and +inf passed through. */
export function logf64(x: f64): f64 {
  if (x != x || x == Infinity) return x;
  if (x == 0) return -Infinity;
  if (x < 0) return NaN;
  let bits = reinterpret<u64>(x);
  let e = <i32>((bits >> 52) & 0x7ff);
  if (e == 0) {
    // Subnormal: scale into the normal range first.
    bits = reinterpret<u64>(x * 18014398509481984.0); // 2^54
    e = <i32>((bits >> 52) & 0x7ff) - 54;
  }
  let m = reinterpret<f64>((bits & 0xfffffffffffff) | 0x3ff0000000000000); // [1, 2)
  e -= 1023;
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e++;
  }
  // log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716: the series to s^17 is exact to ~1e-14.
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  const series =
    s *
    (2.0 +
      s2 *
        (2.0 / 3 +
          s2 * (2.0 / 5 + s2 * (2.0 / 7 + s2 * (2.0 / 9 + s2 * (2.0 / 11 + s2 * (2.0 / 13 + s2 * (2.0 / 15 + s2 * (2.0 / 17)))))))));
  return <f64>e * 0.6931471805599453 + series;
}

// ---------------------------------------------------------------------------------------------
// f16 (IEEE half) → f32, exactly, with subnormals, infinities and NaN: the half's bits shifted into
// an f32's places are the value times 2^-112 (normals and subnormals alike), so one multiply by
// 2^112 finishes; infinities and NaN get the f32 all-ones exponent instead.

const TWO_POW_112: f32 = 5.192296858534828e33;

@inline
export function f16ToF32(h: u32): f32 {
  const abs = h & 0x7fff;
  let v = reinterpret<f32>(abs << 13) * TWO_POW_112;
  if (abs >= 0x7c00) v = reinterpret<f32>((abs << 13) | 0x7f800000);
  return reinterpret<f32>(reinterpret<u32>(v) | ((h & 0x8000) << 16));
}

/** Four halves (zero-extended to u32 lanes, e.g. by v128.load16x4_u) → four f32. */
@inline
export function f16ToF32x4(h: v128): v128 {
  const abs = v128.and(h, i32x4.splat(0x7fff));
  const shifted = i32x4.shl(abs, 13);
  const finite = f32x4.mul(shifted, f32x4.splat(TWO_POW_112));
  const special = v128.or(shifted, i32x4.splat(0x7f800000));
  const v = v128.bitselect(special, finite, i32x4.ge_u(abs, i32x4.splat(0x7c00)));
  return v128.or(v, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}
