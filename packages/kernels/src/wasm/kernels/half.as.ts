import { f16ToF32 } from './common.as';

/**
 * IEEE half → f32, exactly, for the f16 and q8_0 weight formats (WebAssembly has no half type).
 *
 * The fast form puts the 16 bits in the top half of a 32-bit lane (an interleave with zero),
 * shifts right arithmetically by 3 and clears the three copies of the sign that shifted in: that
 * is sign | exponent·mantissa << 13, an f32 whose exponent is 112 too small (a half's bias is 15,
 * a float's 127). One multiply by 2^112 re-biases it, and it is exact for normal halves and for
 * subnormal ones alike (those come in as f32 subnormals and leave normalised). (common.as.ts's f16ToF32 is the scalar form, exact for every
 * bit pattern, and the same arithmetic.) It is wrong only
 * for infinities and NaN (exponent 31), which come out finite: callers test a group of 8 halves
 * for that exponent once and take `halvesToF32Slow` when it occurs (never, in real weights).
 */

/** 2^112 as an f32 bit pattern: exponent 127 + 112. */
const REBIAS: u32 = (127 + 112) << 23;

/** Lanes 0-3 of eight halves (i16x8) → f32x4. Not for infinities or NaN (see `hasInfOrNaN`). */
// @ts-ignore: decorator
@inline export function halfLowToF32(h: v128): v128 {
  const t = i8x16.shuffle(i32x4.splat(0), h, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
  const u = v128.and(i32x4.shr_s(t, 3), i32x4.splat(0x8fffffff));
  return f32x4.mul(u, f32x4.splat(reinterpret<f32>(REBIAS)));
}

/** Lanes 4-7 of eight halves (i16x8) → f32x4. */
// @ts-ignore: decorator
@inline export function halfHighToF32(h: v128): v128 {
  const t = i8x16.shuffle(i32x4.splat(0), h, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
  const u = v128.and(i32x4.shr_s(t, 3), i32x4.splat(0x8fffffff));
  return f32x4.mul(u, f32x4.splat(reinterpret<f32>(REBIAS)));
}

/** Whether any of eight halves has the all-ones exponent (infinity or NaN). */
// @ts-ignore: decorator
@inline export function hasInfOrNaN(h: v128): bool {
  return v128.any_true(i16x8.gt_s(v128.and(h, i16x8.splat(0x7fff)), i16x8.splat(0x7bff)));
}

/** Four halves at ptr (8 bytes) → f32x4, exactly, for every bit pattern. */
// @ts-ignore: decorator
@inline export function load4HalvesToF32(ptr: usize): v128 {
  const h = v128.load64_zero(ptr);
  if (hasInfOrNaN(h)) return halvesToF32Slow(h, false);
  return halfLowToF32(h);
}

/** Lanes 0-3 (high = false) or 4-7 (high = true) of eight halves → f32x4 for any bit patterns. */
function halvesToF32Slow(h: v128, high: bool): v128 {
  // extract_lane takes constant lanes, so both halves are spelled out.
  let r = f32x4.splat(0);
  if (high) {
    r = f32x4.replace_lane(r, 0, f16ToF32(<u32>i16x8.extract_lane_u(h, 4)));
    r = f32x4.replace_lane(r, 1, f16ToF32(<u32>i16x8.extract_lane_u(h, 5)));
    r = f32x4.replace_lane(r, 2, f16ToF32(<u32>i16x8.extract_lane_u(h, 6)));
    r = f32x4.replace_lane(r, 3, f16ToF32(<u32>i16x8.extract_lane_u(h, 7)));
  } else {
    r = f32x4.replace_lane(r, 0, f16ToF32(<u32>i16x8.extract_lane_u(h, 0)));
    r = f32x4.replace_lane(r, 1, f16ToF32(<u32>i16x8.extract_lane_u(h, 1)));
    r = f32x4.replace_lane(r, 2, f16ToF32(<u32>i16x8.extract_lane_u(h, 2)));
    r = f32x4.replace_lane(r, 3, f16ToF32(<u32>i16x8.extract_lane_u(h, 3)));
  }
  return r;
}
