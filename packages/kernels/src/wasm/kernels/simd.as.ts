/**
 * Helpers every kernel file shares: the static split of work across threads, horizontal sums and
 * the multiply-add (fused where the runtime has relaxed SIMD, a multiply and an add otherwise).
 */

/** First unit of thread `tid`'s share when `units` are split evenly over `nthreads` threads. */
// @ts-ignore: decorator
@inline export function shareStart(units: i32, tid: i32, nthreads: i32): i32 {
  return <i32>((<i64>units * <i64>tid) / <i64>nthreads);
}

/** a · b + c per lane. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** The sum of the four lanes of an f32x4. */
// @ts-ignore: decorator
@inline export function sumLanes(a: v128): f32 {
  const s = f32x4.add(a, f32x4.shuffle(a, a, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** [Σa, Σb, Σc, Σd]: the lane sums of four f32x4 as one vector (a 4 × 4 transpose-add). */
// @ts-ignore: decorator
@inline export function sumLanes4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(f32x4.shuffle(a, b, 0, 4, 1, 5), f32x4.shuffle(a, b, 2, 6, 3, 7)); // a0+a2 b0+b2 a1+a3 b1+b3
  const cd = f32x4.add(f32x4.shuffle(c, d, 0, 4, 1, 5), f32x4.shuffle(c, d, 2, 6, 3, 7));
  return f32x4.add(f32x4.shuffle(ab, cd, 0, 1, 4, 5), f32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/** The same for i32x4 lanes. */
// @ts-ignore: decorator
@inline export function sumLanes4I32(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/** The sum of the four lanes of an i32x4. */
// @ts-ignore: decorator
@inline export function sumLanesI32(a: v128): i32 {
  const s = i32x4.add(a, i32x4.shuffle(a, a, 2, 3, 0, 1));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1);
}
