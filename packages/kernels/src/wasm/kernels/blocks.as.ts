/**
 * llama.cpp's 4-6-bit block formats (src/quant/layout.ts) on the wasm backend: decoding one run of
 * 32 consecutive elements ("unit" u = elements 32u .. 32u + 31 of the weight, which never straddles
 * a block or a sub-block of 32) for the matrix-vector kernels, the gemm's packing and the embedding
 * gather. Every format's unit is 32 small integers q (as signed bytes) and per 16 of them a scale a,
 * plus for the formats with mins one offset b: value = a·q + b, exact in f32 or rounded once.
 *
 * A weight is addressed as its quants plane w (the first plane) and the next plane's address s,
 * as q8_0's quants and scales are; the other planes follow from the block count (s - w) / (bytes of
 * quants per block): q4_0 d at s; q4_1 d, m at s; q4_k scales at s, d, dmin at s + 12·blocks; q5_k
 * qh at s, scales at s + 32·blocks, d, dmin at s + 44·blocks; q6_k qh at s, scales at s + 64·blocks,
 * d at s + 80·blocks.
 */
import { f16ToF32 } from './common.as';
import { madd } from './simd.as';

/** Weight kinds of the block formats (0-2 are f32, f16, q8_0; 3 is matvecSwiglu's int8 q8_0). */
export const W_Q4_0: i32 = 4;
export const W_Q4_1: i32 = 5;
export const W_Q4_K: i32 = 6;
export const W_Q5_K: i32 = 7;
export const W_Q6_K: i32 = 8;

/** Bytes of quants per block (the first plane): 16 for q4_0/q4_1, 128 for the k-quants. */
// @ts-ignore: decorator
@inline function quantBytes(kind: i32): i32 {
  return kind == W_Q4_0 || kind == W_Q4_1 ? 16 : 128;
}

/** Blocks in a weight whose quants are at w and next plane at s. */
// @ts-ignore: decorator
@inline export function blockCount(kind: i32, w: usize, s: usize): usize {
  return (s - w) / <usize>quantBytes(kind);
}

/** The low (high = 0) or high nibbles of 16 bytes, as bytes. */
// @ts-ignore: decorator
@inline function nibbles(v: v128, high: i32): v128 {
  return high ? i8x16.shr_u(v, 4) : v128.and(v, i8x16.splat(0x0f));
}

/** k-quant sub-block j's 6-bit scale (min = 0) or min (min = 1) from the 12 bytes at p (get_scale_min_k4). */
// @ts-ignore: decorator
@inline function scaleMinK4(p: usize, j: i32, min: i32): f32 {
  const o = <usize>(j + (min << 2));
  if (j < 4) return <f32>(load<u8>(p + o) & 63);
  // j ≥ 4: low 4 bits from byte j + 4 (low nibble: scale, high: min), high 2 from byte j - 4 (scale) or j (min).
  const low = min ? load<u8>(p + <usize>(j + 4)) >> 4 : load<u8>(p + <usize>(j + 4)) & 0xf;
  const high = load<u8>(p + <usize>(j - 4 + (min << 2))) >> 6;
  return <f32>(low | (high << 4));
}

/** The 16 quants q of elements 32u + 16·part .. + 15, as signed bytes (value = a·q + b). */
// @ts-ignore: decorator
@inline export function unitQuants(kind: i32, w: usize, s: usize, u: usize, part: i32): v128 {
  if (kind == W_Q4_0 || kind == W_Q4_1) {
    // A block of 32: byte j holds element j (low nibble) and j + 16 (high nibble).
    const q = nibbles(v128.load(w + (u << 4)), part);
    return kind == W_Q4_0 ? i8x16.sub(q, i8x16.splat(8)) : q;
  }
  const blocks = blockCount(kind, w, s);
  const b = u >> 3;
  const j = <i32>(u & 7);
  const l = <usize>(part << 4);
  if (kind == W_Q6_K) {
    // Runs r = 0..3 of each half n: ql[l + 32·(r & 1)] low (r < 2) or high nibble, qh[l] bits 2r, 2r+1.
    const n = <usize>(j >> 2);
    const r = j & 3;
    const low = nibbles(v128.load(w + (b << 7) + (n << 6) + (<usize>(r & 1) << 5) + l), r >> 1);
    const qh = v128.load(s + (b << 6) + (n << 5) + l);
    const high = i8x16.shl(v128.and(i8x16.shr_u(qh, 2 * r), i8x16.splat(3)), 4);
    return i8x16.sub(v128.or(low, high), i8x16.splat(32));
  }
  // q4_k, q5_k: sub-block j = 2c + h in the low (h = 0) or high nibbles of qs[32c ..].
  const c = <usize>(j >> 1);
  const q = nibbles(v128.load(w + (b << 7) + (c << 5) + l), j & 1);
  if (kind == W_Q4_K) return q;
  const qh = v128.load(s + (b << 5) + l); // fifth bits: bit j of qh[l]
  return v128.or(q, i8x16.shl(v128.and(i8x16.shr_u(qh, j), i8x16.splat(1)), 4));
}

/** The scale a of elements 32u + 16·part .. + 15. */
// @ts-ignore: decorator
@inline export function unitScale(kind: i32, w: usize, s: usize, u: usize, part: i32): f32 {
  if (kind == W_Q4_0 || kind == W_Q4_1) return f16ToF32(<u32>load<u16>(s + (u << (kind == W_Q4_0 ? 1 : 2))));
  const blocks = blockCount(kind, w, s);
  const b = u >> 3;
  const j = <i32>(u & 7);
  if (kind == W_Q6_K) {
    const d = f16ToF32(<u32>load<u16>(s + blocks * 80 + (b << 1)));
    // scales[8n + 2r + part] for run r of half n: the 16-element sub-blocks, in element order.
    return d * <f32>load<i8>(s + blocks * 64 + (b << 4) + (<usize>j << 1) + <usize>part);
  }
  const scales = s + (kind == W_Q4_K ? 0 : blocks * 32) + b * 12;
  const dm = s + (kind == W_Q4_K ? blocks * 12 : blocks * 44) + (b << 2);
  return f16ToF32(<u32>load<u16>(dm)) * scaleMinK4(scales, j, 0);
}

/** The offset b of unit u (-dmin·m for the k-quants, m for q4_1, 0 for the symmetric formats). */
// @ts-ignore: decorator
@inline export function unitOffset(kind: i32, w: usize, s: usize, u: usize): f32 {
  if (kind == W_Q4_1) return f16ToF32(<u32>load<u16>(s + (u << 2), 2));
  if (kind != W_Q4_K && kind != W_Q5_K) return 0;
  const blocks = blockCount(kind, w, s);
  const b = u >> 3;
  const scales = s + (kind == W_Q4_K ? 0 : blocks * 32) + b * 12;
  const dm = s + (kind == W_Q4_K ? blocks * 12 : blocks * 44) + (b << 2);
  return -(f16ToF32(<u32>load<u16>(dm, 2)) * scaleMinK4(scales, <i32>(u & 7), 1));
}

/** Σ x[i] · q[i] over 16 elements: q signed bytes, x 16 f32 at x (lane-wise partial sums). */
// @ts-ignore: decorator
@inline function dot16(q: v128, x: usize): v128 {
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  const s = madd(v128.load(x, 16), f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), f32x4.mul(v128.load(x), f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo))));
  const t = madd(v128.load(x, 48), f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), f32x4.mul(v128.load(x, 32), f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi))));
  return f32x4.add(s, t);
}

/** Σ x · value over unit u (32 f32 of x at x), as lane-wise partial sums. */
// @ts-ignore: decorator
@inline export function unitDot(kind: i32, w: usize, s: usize, u: usize, x: usize): v128 {
  let acc = f32x4.mul(dot16(unitQuants(kind, w, s, u, 0), x), f32x4.splat(unitScale(kind, w, s, u, 0)));
  acc = madd(dot16(unitQuants(kind, w, s, u, 1), x + 64), f32x4.splat(unitScale(kind, w, s, u, 1)), acc);
  if (kind == W_Q4_1 || kind == W_Q4_K || kind == W_Q5_K) {
    const sx = f32x4.add(
      f32x4.add(f32x4.add(v128.load(x), v128.load(x, 16)), f32x4.add(v128.load(x, 32), v128.load(x, 48))),
      f32x4.add(f32x4.add(v128.load(x, 64), v128.load(x, 80)), f32x4.add(v128.load(x, 96), v128.load(x, 112))),
    );
    acc = madd(sx, f32x4.splat(unitOffset(kind, w, s, u)), acc);
  }
  return acc;
}

/**
 * The 32 values of unit u as f32 to dst (dst + 4i, or with `stride` bytes between consecutive
 * values for the gemm's micro-panels): a·q + b with one rounding (a·q is exact), as the float64
 * dequantisation rounded to f32.
 */
// @ts-ignore: decorator
@inline export function unitValues(kind: i32, w: usize, s: usize, u: usize, dst: usize, stride: usize): void {
  const b = f32x4.splat(unitOffset(kind, w, s, u));
  for (let part = 0; part < 2; part++) {
    const q = unitQuants(kind, w, s, u, part);
    const a = f32x4.splat(unitScale(kind, w, s, u, part));
    const lo = i16x8.extend_low_i8x16_s(q);
    const hi = i16x8.extend_high_i8x16_s(q);
    const out = dst + <usize>(part << 4) * stride;
    store4(out, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), a), b), stride);
    store4(out + 4 * stride, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), a), b), stride);
    store4(out + 8 * stride, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), a), b), stride);
    store4(out + 12 * stride, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), a), b), stride);
  }
}

// @ts-ignore: decorator
@inline function store4(dst: usize, v: v128, stride: usize): void {
  if (stride == 4) {
    v128.store(dst, v);
    return;
  }
  v128.store32_lane(dst, v, 0);
  v128.store32_lane(dst + stride, v, 1);
  v128.store32_lane(dst + 2 * stride, v, 2);
  v128.store32_lane(dst + 3 * stride, v, 3);
}

/**
 * A block-format weight's rows jc..jc+nc (row length K, a multiple of 256 for the k-quants, 32
 * otherwise), columns pc..pc+kc (multiples of 32) → the gemm's f32 micro-panels of NR = 8 columns
 * (value p of column jj at out + 32·p + 4·jj within its panel; zero columns past nc).
 */
export function packBlocks(kind: i32, w: usize, s: usize, K: i32, jc: i32, nc: i32, pc: i32, kc: i32, out: usize): void {
  for (let jr = 0; jr < nc; jr += 8) {
    const panel = out + <usize>jr * kc * 4;
    const cols = min(8, nc - jr);
    for (let jj = 0; jj < 8; jj++) {
      const dst = panel + (<usize>jj << 2);
      if (jj >= cols) {
        for (let p = 0; p < kc; p++) store<f32>(dst + (<usize>p << 5), 0);
        continue;
      }
      const first = (<usize>(jc + jr + jj) * K + pc) >> 5;
      for (let p = 0; p < kc; p += 32) unitValues(kind, w, s, first + (<usize>p >> 5), dst + (<usize>p << 5), 32);
    }
  }
}

/**
 * y[m, n] = Σ_k x[m, k] · w[n, k] for a block-format weight (exact values a·q + b, summed per unit
 * as a·Σxq + b·Σx). x f32 [M, K], y f32 [M, N]; threads split the rows.
 */
export function matvecBlocks(tid: i32, nthreads: i32, x: usize, w: usize, s: usize, y: usize, M: i32, N: i32, K: i32, kind: i32): void {
  const first = <i32>((<i64>N * tid) / nthreads);
  const end = <i32>((<i64>N * (tid + 1)) / nthreads);
  // One instance of the loop per format (the kind a constant in each), so the decoding's branches on it fold away.
  if (kind == W_Q4_0) matvecBlocksRows(x, w, s, y, M, N, K, W_Q4_0, first, end);
  else if (kind == W_Q4_1) matvecBlocksRows(x, w, s, y, M, N, K, W_Q4_1, first, end);
  else if (kind == W_Q4_K) matvecBlocksRows(x, w, s, y, M, N, K, W_Q4_K, first, end);
  else if (kind == W_Q5_K) matvecBlocksRows(x, w, s, y, M, N, K, W_Q5_K, first, end);
  else matvecBlocksRows(x, w, s, y, M, N, K, W_Q6_K, first, end);
}

/** Rows first..end of matvecBlocks. */
// @ts-ignore: decorator
@inline function matvecBlocksRows(x: usize, w: usize, s: usize, y: usize, M: i32, N: i32, K: i32, kind: i32, first: i32, end: i32): void {
  const units = K >> 5;
  for (let n = first; n < end; n++) {
    const u0 = <usize>n * units;
    for (let m = 0; m < M; m++) {
      const xm = x + ((<usize>m * K) << 2);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      if (kind == W_Q4_0 || kind == W_Q4_1) {
        let u = 0;
        for (; u + 2 <= units; u += 2) {
          a0 = f32x4.add(a0, unitDot(kind, w, s, u0 + u, xm + (<usize>u << 7)));
          a1 = f32x4.add(a1, unitDot(kind, w, s, u0 + u + 1, xm + (<usize>u << 7) + 128));
        }
        if (u < units) a0 = f32x4.add(a0, unitDot(kind, w, s, u0 + u, xm + (<usize>u << 7)));
      } else {
        // The k-quants a block (8 units) at a time: its d, dmin and scale bytes decoded once.
        for (let u = 0; u < units; u += 8) {
          a0 = f32x4.add(a0, superBlockDot(kind, w, s, (u0 + u) >> 3, xm + (<usize>u << 7)));
        }
      }
      const t = f32x4.add(a0, a1);
      const sum = f32x4.add(t, f32x4.shuffle(t, t, 2, 3, 0, 1));
      store<f32>(y + ((<usize>m * N + n) << 2), f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1));
    }
  }
}

/** Σ x · value over k-quant block blk (256 f32 of x at x), as lane-wise partial sums. */
// @ts-ignore: decorator
@inline function superBlockDot(kind: i32, w: usize, s: usize, blk: usize, x: usize): v128 {
  const blocks = blockCount(kind, w, s);
  let acc = f32x4.splat(0);
  let off = f32x4.splat(0);
  if (kind == W_Q6_K) {
    const d = f16ToF32(<u32>load<u16>(s + blocks * 80 + (blk << 1)));
    const scales = s + blocks * 64 + (blk << 4);
    for (let j = 0; j < 8; j++) {
      const u = (blk << 3) + <usize>j;
      const xu = x + (<usize>j << 7);
      const s0 = d * <f32>load<i8>(scales + (<usize>j << 1));
      const s1 = d * <f32>load<i8>(scales + (<usize>j << 1), 1);
      acc = madd(dot16(unitQuants(kind, w, s, u, 0), xu), f32x4.splat(s0), acc);
      acc = madd(dot16(unitQuants(kind, w, s, u, 1), xu + 64), f32x4.splat(s1), acc);
    }
    return acc;
  }
  const scales = s + (kind == W_Q4_K ? 0 : blocks * 32) + blk * 12;
  const dm = s + (kind == W_Q4_K ? blocks * 12 : blocks * 44) + (blk << 2);
  const d = f16ToF32(<u32>load<u16>(dm));
  const dmin = f16ToF32(<u32>load<u16>(dm, 2));
  for (let j = 0; j < 8; j++) {
    const u = (blk << 3) + <usize>j;
    const xu = x + (<usize>j << 7);
    const sq = f32x4.add(dot16(unitQuants(kind, w, s, u, 0), xu), dot16(unitQuants(kind, w, s, u, 1), xu + 64));
    const sx = f32x4.add(
      f32x4.add(f32x4.add(v128.load(xu), v128.load(xu, 16)), f32x4.add(v128.load(xu, 32), v128.load(xu, 48))),
      f32x4.add(f32x4.add(v128.load(xu, 64), v128.load(xu, 80)), f32x4.add(v128.load(xu, 96), v128.load(xu, 112))),
    );
    acc = madd(sq, f32x4.splat(d * scaleMinK4(scales, j, 0)), acc);
    off = madd(sx, f32x4.splat(dmin * scaleMinK4(scales, j, 1)), off);
  }
  return f32x4.sub(acc, off);
}

/** Row gather: rows ids[t] of a block-format table [vocab, dim] → y [tokens, dim]; ids outside 0..vocab-1 give zeros. */
export function embeddingBlocks(tid: i32, nthreads: i32, table: usize, s: usize, ids: usize, y: usize, tokens: i32, vocab: i32, dim: i32, kind: i32): void {
  const first = <i32>((<i64>tokens * tid) / nthreads);
  const end = <i32>((<i64>tokens * (tid + 1)) / nthreads);
  const units = dim >> 5;
  for (let t = first; t < end; t++) {
    const id = load<i32>(ids + (<usize>t << 2));
    const out = y + ((<usize>t * dim) << 2);
    if (id < 0 || id >= vocab) {
      memory.fill(out, 0, (<usize>dim) << 2);
      continue;
    }
    for (let u = 0; u < units; u++) unitValues(kind, table, s, <usize>id * units + u, out + (<usize>u << 7), 4);
  }
}
