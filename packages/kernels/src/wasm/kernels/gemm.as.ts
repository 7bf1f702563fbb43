/**
 * The packed, register- and cache-blocked matrix multiply of the wasm backend:
 * C[i, j] (+)= Σ_p A[i, p] · B[j, p], every f32 operand addressed through element strides (as the
 * CPU backend's gemm.ts), so the forward matmul (y = x · wᵀ), both of its gradients and attention's
 * products run one loop without transposing anything in memory first. B may also be an f16 or
 * q8_0 weight [cols, depth] (row-major), dequantised while it is packed.
 *
 * Blocking (GotoBLAS-style): the depth is cut into KC-long slices; per slice, a thread packs NC of
 * its columns of B (NR-wide micro-panels, p-major: the f32 values the micro-kernel reads, in the
 * order it reads them; f16/q8_0 converted here, once per element per call) and MC rows of A
 * (MR-tall micro-panels), both into its scratch, then runs the MR × NR micro-kernel over every pair
 * of micro-panels: 8 f32x4 accumulators (4 rows × 8 columns) that stay in registers for the
 * whole slice, fed per step by two 16-byte loads of B and four broadcasts of A (16 multiply-adds
 * per 6 loads). The B micro-panel (NR × KC × 4 = 8 KiB) stays in L1 while the A panels stream from
 * L2 (MC × KC × 4 = 128 KiB). Edges are packed with zeros and stored through a small tile.
 *
 * Threads split the columns (or, when there are fewer column panels than row panels, the rows)
 * evenly in whole micro-panels, so each weight element is dequantised by one thread only.
 */
import { packBlocks } from './blocks.as';
import { f16ToF32 } from './common.as';
import { halfHighToF32, halfLowToF32, hasInfOrNaN } from './half.as';
import { madd, shareStart } from './simd.as';

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 128;
const NC = 128;

/** Scratch bytes per thread the gemm kernels need (see GEMM_SCRATCH_BYTES in sizes.ts). */
export const GEMM_SCRATCH: i32 = (MC * KC + NC * KC + MR * NR) * 4;

/** The kind of B operand. */
export const B_F32: i32 = 0;
export const B_F16: i32 = 1;
export const B_Q8_0: i32 = 2;

/**
 * C [rows, cols] (+)= A [rows, depth] · B [cols, depth]ᵀ, all f32, with element strides:
 * A[i, p] at A + 4(i·ai + p·ap), B[j, p] at B + 4(j·bj + p·bp), C[i, j] at C + 4(i·cRow + j).
 * accumulate ≠ 0 adds to C. Thread tid's scratch: scratch + tid · scratchStride (GEMM_SCRATCH bytes).
 */
export function gemmF32(
  tid: i32,
  nthreads: i32,
  A: usize,
  ai: i32,
  ap: i32,
  B: usize,
  bj: i32,
  bp: i32,
  C: usize,
  cRow: i32,
  rows: i32,
  cols: i32,
  depth: i32,
  accumulate: i32,
  scratch: usize,
  scratchStride: i32,
): void {
  gemmShare(tid, nthreads, A, ai, ap, B_F32, B, 0, bj, bp, C, cRow, rows, cols, depth, accumulate, scratch + <usize>tid * scratchStride);
}

/**
 * y [M, N] = x [M, K] · wᵀ for a weight w [N, K] of kind `kind` (0 f32, 1 f16, 2 q8_0; `scales`:
 * the q8_0 scales [N, K/32]). The prefill matmul (M > 1).
 */
export function matmulGemm(
  tid: i32,
  nthreads: i32,
  x: usize,
  w: usize,
  scales: usize,
  y: usize,
  M: i32,
  N: i32,
  K: i32,
  kind: i32,
  scratch: usize,
  scratchStride: i32,
): void {
  gemmShare(tid, nthreads, x, K, 1, kind, w, scales, K, 1, y, N, M, N, K, 0, scratch + <usize>tid * scratchStride);
}

/** Splits the output between the threads in whole micro-panels and runs this thread's part. */
// @ts-ignore: decorator
@inline function gemmShare(
  tid: i32,
  nthreads: i32,
  A: usize,
  ai: i32,
  ap: i32,
  kind: i32,
  B: usize,
  scales: usize,
  bj: i32,
  bp: i32,
  C: usize,
  cRow: i32,
  rows: i32,
  cols: i32,
  depth: i32,
  accumulate: i32,
  scratch: usize,
): void {
  const colPanels = (cols + NR - 1) / NR;
  const rowPanels = (rows + MR - 1) / MR;
  let r0 = 0, r1 = rows, c0 = 0, c1 = cols;
  if (colPanels >= rowPanels || kind != B_F32) {
    c0 = min(shareStart(colPanels, tid, nthreads) * NR, cols);
    c1 = min(shareStart(colPanels, tid + 1, nthreads) * NR, cols);
  } else {
    r0 = min(shareStart(rowPanels, tid, nthreads) * MR, rows);
    r1 = min(shareStart(rowPanels, tid + 1, nthreads) * MR, rows);
  }
  if (r0 < r1 && c0 < c1) gemmRange(A, ai, ap, kind, B, scales, bj, bp, C, cRow, r0, r1, c0, c1, depth, accumulate, scratch);
}

/**
 * C[r0..r1, c0..c1) (+)= A[r0..r1) · B[c0..c1)ᵀ on the calling thread, packing into `scratch`
 * (GEMM_SCRATCH bytes). C is the address of C[0, 0] (it may lie outside the region written).
 */
export function gemmRange(
  A: usize,
  ai: i32,
  ap: i32,
  kind: i32,
  B: usize,
  scales: usize,
  bj: i32,
  bp: i32,
  C: usize,
  cRow: i32,
  r0: i32,
  r1: i32,
  c0: i32,
  c1: i32,
  depth: i32,
  accumulate: i32,
  scratch: usize,
): void {
  const packedA = scratch;
  const packedB = packedA + MC * KC * 4;
  const tile = packedB + NC * KC * 4;
  if (depth == 0) {
    if (accumulate == 0) {
      for (let i = r0; i < r1; i++) memory.fill(C + ((<usize>i * cRow + c0) << 2), 0, <usize>(c1 - c0) << 2);
    }
    return;
  }
  for (let pc = 0; pc < depth; pc += KC) {
    const kc = min(KC, depth - pc);
    const add = accumulate != 0 || pc > 0;
    for (let jc = c0; jc < c1; jc += NC) {
      const nc = min(NC, c1 - jc);
      if (kind == B_F32) packF32(B, bj, bp, jc, nc, pc, kc, packedB);
      else if (kind == B_F16) packF16(B, bj, jc, nc, pc, kc, packedB);
      else if (kind == B_Q8_0) packQ8_0(B, scales, bj, jc, nc, pc, kc, packedB);
      else packBlocks(kind, B, scales, bj, jc, nc, pc, kc, packedB); // the 4-6-bit formats (blocks.as.ts)
      for (let ic = r0; ic < r1; ic += MC) {
        const mc = min(MC, r1 - ic);
        packA(A, ai, ap, ic, mc, pc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const bPanel = packedB + <usize>jr * kc * 4;
          const cols = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const out = C + ((<usize>(ic + ir) * cRow + jc + jr) << 2);
            microKernel(packedA + <usize>ir * kc * 4, bPanel, kc, out, cRow, min(MR, mc - ir), cols, add, tile);
          }
        }
      }
    }
  }
}

/**
 * The 4 × 8 register block: C[0..rows, 0..cols) (+)= Σ_p a[p·4 + i] · b[p·8 + j] for the packed
 * micro-panels a (4 × kc) and b (8 × kc). Partial blocks go through `tile`.
 */
// @ts-ignore: decorator
@inline function microKernel(a: usize, b: usize, kc: i32, c: usize, cRow: i32, rows: i32, cols: i32, add: bool, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = a + <usize>kc * 16;
  for (; a < end; a += 16, b += 32) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(a, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
  }
  const rowBytes = <usize>cRow << 2;
  if (rows == MR && cols == NR) {
    store2(c, c00, c01, add);
    store2(c + rowBytes, c10, c11, add);
    store2(c + 2 * rowBytes, c20, c21, add);
    store2(c + 3 * rowBytes, c30, c31, add);
    return;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const o = c + <usize>i * rowBytes + (<usize>j << 2);
      const v = load<f32>(tile + ((<usize>(i * NR + j)) << 2));
      store<f32>(o, add ? load<f32>(o) + v : v);
    }
  }
}

// @ts-ignore: decorator
@inline function store2(c: usize, lo: v128, hi: v128, add: bool): void {
  if (add) {
    v128.store(c, f32x4.add(v128.load(c), lo));
    v128.store(c, f32x4.add(v128.load(c, 16), hi), 16);
  } else {
    v128.store(c, lo);
    v128.store(c, hi, 16);
  }
}

/** A[ic..ic+mc, pc..pc+kc) → MR-tall micro-panels, p-major (zero rows past mc). */
function packA(A: usize, ai: i32, ap: i32, ic: i32, mc: i32, pc: i32, kc: i32, out: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const panel = out + <usize>ir * kc * 4;
    const rows = min(MR, mc - ir);
    for (let ii = 0; ii < MR; ii++) {
      const dst = panel + (<usize>ii << 2);
      if (ii >= rows) {
        for (let p = 0; p < kc; p++) store<f32>(dst + (<usize>p << 4), 0);
        continue;
      }
      let src = A + ((<usize>(ic + ir + ii) * ai + <usize>pc * ap) << 2);
      const step = <usize>ap << 2;
      for (let p = 0; p < kc; p++, src += step) store<f32>(dst + (<usize>p << 4), load<f32>(src));
    }
  }
}

/** f32 B[jc..jc+nc, pc..pc+kc) → NR-wide micro-panels, p-major (zero columns past nc). */
function packF32(B: usize, bj: i32, bp: i32, jc: i32, nc: i32, pc: i32, kc: i32, out: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const panel = out + <usize>jr * kc * 4;
    const cols = min(NR, nc - jr);
    if (bj == 1 && cols == NR) {
      // B's columns are contiguous (a transposed operand): 8 of them are two vector loads.
      let src = B + ((<usize>(jc + jr) + <usize>pc * bp) << 2);
      const step = <usize>bp << 2;
      for (let p = 0; p < kc; p++, src += step) {
        v128.store(panel + (<usize>p << 5), v128.load(src));
        v128.store(panel + (<usize>p << 5), v128.load(src, 16), 16);
      }
      continue;
    }
    for (let jj = 0; jj < NR; jj++) {
      const dst = panel + (<usize>jj << 2);
      if (jj >= cols) {
        for (let p = 0; p < kc; p++) store<f32>(dst + (<usize>p << 5), 0);
        continue;
      }
      let src = B + ((<usize>(jc + jr + jj) * bj + <usize>pc * bp) << 2);
      const step = <usize>bp << 2;
      for (let p = 0; p < kc; p++, src += step) store<f32>(dst + (<usize>p << 5), load<f32>(src));
    }
  }
}

/** An f16 weight's rows jc..jc+nc (row length K), columns pc..pc+kc → f32 micro-panels. */
function packF16(B: usize, K: i32, jc: i32, nc: i32, pc: i32, kc: i32, out: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const panel = out + <usize>jr * kc * 4;
    const cols = min(NR, nc - jr);
    for (let jj = 0; jj < NR; jj++) {
      let dst = panel + (<usize>jj << 2);
      if (jj >= cols) {
        for (let p = 0; p < kc; p++) store<f32>(dst + (<usize>p << 5), 0);
        continue;
      }
      const src = B + ((<usize>(jc + jr + jj) * K + pc) << 1);
      let p = 0;
      for (; p + 8 <= kc; p += 8, dst += 256) {
        const h = v128.load(src + (<usize>p << 1));
        if (hasInfOrNaN(h)) {
          for (let i = 0; i < 8; i++) store<f32>(dst + (<usize>i << 5), f16ToF32(<u32>load<u16>(src + (<usize>(p + i) << 1))));
          continue;
        }
        scatter4(dst, halfLowToF32(h));
        scatter4(dst + 128, halfHighToF32(h));
      }
      for (; p < kc; p++, dst += 32) store<f32>(dst, f16ToF32(<u32>load<u16>(src + (<usize>p << 1))));
    }
  }
}

/** A q8_0 weight's rows jc..jc+nc (row length K, a multiple of 32; pc and kc too) → f32 micro-panels. */
function packQ8_0(B: usize, scales: usize, K: i32, jc: i32, nc: i32, pc: i32, kc: i32, out: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const panel = out + <usize>jr * kc * 4;
    const cols = min(NR, nc - jr);
    for (let jj = 0; jj < NR; jj++) {
      let dst = panel + (<usize>jj << 2);
      if (jj >= cols) {
        for (let p = 0; p < kc; p++) store<f32>(dst + (<usize>p << 5), 0);
        continue;
      }
      const row = jc + jr + jj;
      const q = B + <usize>row * K + pc;
      const d = scales + ((<usize>row * (K >> 5) + (pc >> 5)) << 1);
      for (let p = 0; p < kc; p += 32, dst += 1024) {
        const scale = f32x4.splat(f16ToF32(<u32>load<u16>(d + (<usize>p >> 4))));
        const q0 = v128.load(q + p);
        const q1 = v128.load(q + p, 16);
        const l0 = i16x8.extend_low_i8x16_s(q0);
        const h0 = i16x8.extend_high_i8x16_s(q0);
        const l1 = i16x8.extend_low_i8x16_s(q1);
        const h1 = i16x8.extend_high_i8x16_s(q1);
        scatter4(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(l0)), scale));
        scatter4(dst + 128, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(l0)), scale));
        scatter4(dst + 256, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(h0)), scale));
        scatter4(dst + 384, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(h0)), scale));
        scatter4(dst + 512, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(l1)), scale));
        scatter4(dst + 640, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(l1)), scale));
        scatter4(dst + 768, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(h1)), scale));
        scatter4(dst + 896, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(h1)), scale));
      }
    }
  }
}

/** Four consecutive depth values of one column → their places in a micro-panel (NR floats apart). */
// @ts-ignore: decorator
@inline function scatter4(dst: usize, v: v128): void {
  v128.store32_lane(dst, v, 0);
  v128.store32_lane(dst, v, 1, 32);
  v128.store32_lane(dst, v, 2, 64);
  v128.store32_lane(dst, v, 3, 96);
}
