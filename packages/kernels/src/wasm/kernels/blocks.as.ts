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
import { halfBlockDotI8 } from './matvec.as';
import { madd, sumLanes } from './simd.as';

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
 * y[m, n] = Σ_k x[m, k] · w[n, k] for a block-format weight against x quantized to int8 per block
 * of 32 (quantizeQ8Activations, as for q8_0; llama.cpp also runs its 4-6-bit formats against int8
 * activations). Per unit of 32 values a·q + b: d_x · a · Σ xq·q (an exact integer sum per half; q6_k
 * has a scale a per half) plus b · d_x · Σ xq. xq as quantizeQ8Activations wrote it; y f32 [M, N];
 * threads split the rows.
 */
export function matvecBlocksQ8(tid: i32, nthreads: i32, xq: usize, w: usize, s: usize, y: usize, M: i32, N: i32, K: i32, kind: i32): void {
  const first = <i32>((<i64>N * tid) / nthreads);
  const end = <i32>((<i64>N * (tid + 1)) / nthreads);
  // One instance of the loop per format (the kind a constant in each), so the decoding's branches on it fold away.
  if (kind == W_Q4_0) matvecBlocksQ8Rows(xq, w, s, y, M, N, K, W_Q4_0, first, end);
  else if (kind == W_Q4_1) matvecBlocksQ8Rows(xq, w, s, y, M, N, K, W_Q4_1, first, end);
  else if (kind == W_Q4_K) matvecBlocksQ8Rows(xq, w, s, y, M, N, K, W_Q4_K, first, end);
  else if (kind == W_Q5_K) matvecBlocksQ8Rows(xq, w, s, y, M, N, K, W_Q5_K, first, end);
  else matvecBlocksQ8Rows(xq, w, s, y, M, N, K, W_Q6_K, first, end);
}

/** Rows first..end of matvecBlocksQ8. */
// @ts-ignore: decorator
@inline function matvecBlocksQ8Rows(xq: usize, w: usize, s: usize, y: usize, M: i32, N: i32, K: i32, kind: i32, first: i32, end: i32): void {
  const units = K >> 5;
  const scales = xq + ((<usize>M * K) << 1); // x's d per block [M, units], then d · Σq [M, units]
  const sums = scales + ((<usize>M * units) << 2);
  for (let n = first; n < end; n++) {
    const u0 = <usize>n * units;
    for (let m = 0; m < M; m++) {
      const xm = xq + ((<usize>m * K) << 1);
      const dx = scales + ((<usize>m * units) << 2);
      const sx = sums + ((<usize>m * units) << 2);
      let acc = f32x4.splat(0);
      let offset: f32 = 0;
      if (kind == W_Q4_0 || kind == W_Q4_1) {
        for (let u = 0; u < units; u++) {
          // Both halves from one load: byte j holds element j (low nibble) and j + 16 (high).
          const packed = v128.load(w + ((u0 + u) << 4));
          let q0 = v128.and(packed, i8x16.splat(0x0f));
          let q1 = i8x16.shr_u(packed, 4);
          if (kind == W_Q4_0) {
            q0 = i8x16.sub(q0, i8x16.splat(8));
            q1 = i8x16.sub(q1, i8x16.splat(8));
          }
          const xb = xm + (<usize>u << 6);
          const sum = i32x4.add(halfBlockDotI8(xb, 0, q0), halfBlockDotI8(xb, 1, q1));
          const d = load<f32>(dx + (<usize>u << 2));
          acc = madd(f32x4.convert_i32x4_s(sum), f32x4.splat(unitScale(kind, w, s, u0 + u, 0) * d), acc);
          if (kind == W_Q4_1) offset += unitOffset(kind, w, s, u0 + u) * load<f32>(sx + (<usize>u << 2));
        }
      } else if (kind == W_Q6_K) {
        // Per block of 256: d; per 16 values an int8 scale; decoded a half block (128 values, 4
        // units) at a time so every shift is a constant (see q6kQuants).
        const planes = blockCount(kind, w, s);
        for (let blk: usize = 0; blk < <usize>(units >> 3); blk++) {
          const g = (u0 >> 3) + blk;
          const d = f16ToF32(<u32>load<u16>(s + planes * 80 + (g << 1)));
          const scaleBytes = s + planes * 64 + (g << 4);
          for (let half: usize = 0; half < 2; half++) {
            const ql = w + (g << 7) + (half << 6);
            const qh = s + (g << 6) + (half << 5);
            const ql0 = v128.load(ql), ql1 = v128.load(ql, 16), ql2 = v128.load(ql, 32), ql3 = v128.load(ql, 48);
            const qh0 = v128.load(qh), qh1 = v128.load(qh, 16);
            const u = (blk << 3) + (half << 2);
            const sc = scaleBytes + (half << 3);
            acc = q6kUnit(acc, xm, dx, u, sc, d, q6kQuants(ql0, qh0, 0, 0), q6kQuants(ql1, qh1, 0, 0));
            acc = q6kUnit(acc, xm, dx, u + 1, sc + 2, d, q6kQuants(ql2, qh0, 0, 2), q6kQuants(ql3, qh1, 0, 2));
            acc = q6kUnit(acc, xm, dx, u + 2, sc + 4, d, q6kQuants(ql0, qh0, 1, 4), q6kQuants(ql1, qh1, 1, 4));
            acc = q6kUnit(acc, xm, dx, u + 3, sc + 6, d, q6kQuants(ql2, qh0, 1, 6), q6kQuants(ql3, qh1, 1, 6));
          }
        }
      } else {
        // q4_k, q5_k per block of 256: d and dmin; per unit a 6-bit scale and min.
        const planes = blockCount(kind, w, s);
        const scaleBase = s + (kind == W_Q4_K ? 0 : planes * 32);
        const dmBase = s + (kind == W_Q4_K ? planes * 12 : planes * 44);
        for (let blk: usize = 0; blk < <usize>(units >> 3); blk++) {
          const g = (u0 >> 3) + blk;
          const scaleBytes = scaleBase + g * 12;
          const d = f16ToF32(<u32>load<u16>(dmBase + (g << 2)));
          const dmin = f16ToF32(<u32>load<u16>(dmBase + (g << 2), 2));
          for (let j = 0; j < 8; j++) {
            const u = (blk << 3) + <usize>j;
            const xb = xm + (u << 6);
            const q0 = unitQuants(kind, w, s, u0 + u, 0);
            const q1 = unitQuants(kind, w, s, u0 + u, 1);
            const sum = i32x4.add(halfBlockDotI8(xb, 0, q0), halfBlockDotI8(xb, 1, q1));
            acc = madd(f32x4.convert_i32x4_s(sum), f32x4.splat(d * scaleMinK4(scaleBytes, j, 0) * load<f32>(dx + (u << 2))), acc);
            offset -= dmin * scaleMinK4(scaleBytes, j, 1) * load<f32>(sx + (u << 2));
          }
        }
      }
      store<f32>(y + ((<usize>m * N + n) << 2), sumLanes(acc) + offset);
    }
  }
}

/**
 * 16 q6_k quants (-32..31) from 16 bytes of ql (low or high nibbles) and the matching 16 bytes of
 * qh (2 bits at bit `shift`): q = (nibble | two bits << 4) - 32. The arguments are constants at every
 * call, so no shift is variable.
 */
// @ts-ignore: decorator
@inline function q6kQuants(ql: v128, qh: v128, high: i32, shift: i32): v128 {
  const low = high ? i8x16.shr_u(ql, 4) : v128.and(ql, i8x16.splat(0x0f));
  const top = i8x16.shl(v128.and(i8x16.shr_u(qh, shift), i8x16.splat(3)), 4);
  return i8x16.sub(v128.or(low, top), i8x16.splat(32));
}

/** acc + unit u's two halves (quants h0, h1; int8 scales at sc, sc + 1; block scale d) against x. */
// @ts-ignore: decorator
@inline function q6kUnit(acc: v128, xm: usize, dx: usize, u: usize, sc: usize, d: f32, h0: v128, h1: v128): v128 {
  const xb = xm + (u << 6);
  const dd = d * load<f32>(dx + (u << 2));
  acc = madd(f32x4.convert_i32x4_s(halfBlockDotI8(xb, 0, h0)), f32x4.splat(dd * <f32>load<i8>(sc)), acc);
  return madd(f32x4.convert_i32x4_s(halfBlockDotI8(xb, 1, h1)), f32x4.splat(dd * <f32>load<i8>(sc, 1)), acc);
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
