/**
 * The feed-forward gate, fused: y = silu(x · w1ᵀ) ⊙ (x · w3ᵀ) in one dispatch (one barrier): each
 * part computes the gate and up values of its own share of the N outputs and combines them itself.
 * Decode (small M): the matrix-vector rows of matvec.as.ts over w1 into y and over w3 into an
 * [M, N] scratch, then combined in place. Prefill: the gemm on [MC, NC] blocks of gate and up in
 * the thread's scratch, combined into y block by block.
 */
import { expf4 } from '../../wasm/kernels/common.as';
import { B_F16, B_F32, GEMM_SCRATCH, gemmRange } from '../../wasm/kernels/gemm.as';
import { groupStart, matvecF16Rows, matvecF32Rows, matvecQ8_0Rows } from '../../wasm/kernels/matvec.as';
import { shareStart } from '../../wasm/kernels/simd.as';

/**
 * x [M, K] (f32; for q8_0 weights, x as quantizeQ8Activations wrote it), w1 and w3 [N, K] of kind
 * `kind` (0 f32, 1 f16, 2 q8_0 against int8 activations; s1/s3 the q8_0 scales) → y f32 [M, N].
 * `up` is an [M, N] f32 scratch: each part writes the up values of its own rows there and combines
 * them with its gate values in y.
 */
export function matvecSwiglu(
  tid: i32,
  nthreads: i32,
  x: usize,
  w1: usize,
  s1: usize,
  w3: usize,
  s3: usize,
  y: usize,
  up: usize,
  M: i32,
  N: i32,
  K: i32,
  kind: i32,
): void {
  const group = kind == B_F32 || kind == B_F16 ? 4 : 2;
  const first = groupStart(N, group, tid, nthreads);
  const end = groupStart(N, group, tid + 1, nthreads);
  if (first >= end) return;
  if (kind == B_F32) {
    matvecF32Rows(x, w1, y, M, N, K, first, end);
    matvecF32Rows(x, w3, up, M, N, K, first, end);
  } else if (kind == B_F16) {
    matvecF16Rows(x, w1, y, M, N, K, first, end);
    matvecF16Rows(x, w3, up, M, N, K, first, end);
  } else {
    matvecQ8_0Rows(x, w1, s1, y, M, N, K, first, end);
    matvecQ8_0Rows(x, w3, s3, up, M, N, K, first, end);
  }
  for (let m = 0; m < M; m++) {
    const row = <usize>m * N;
    siluTimes(y + ((row + first) << 2), up + ((row + first) << 2), y + ((row + first) << 2), end - first);
  }
}

const MC = 128;
const NC = 128;

/** Scratch bytes per thread of matmulSwigluGemm: the gemm's packing plus a gate and an up block. */
export const MATMUL_SWIGLU_SCRATCH: i32 = GEMM_SCRATCH + 2 * MC * NC * 4;

/**
 * The prefill form (any M): as matvecSwiglu, with the gemm. The N outputs are split across threads
 * in blocks of 8 columns. Thread tid's scratch: scratch + tid · scratchStride (MATMUL_SWIGLU_SCRATCH).
 */
export function matmulSwigluGemm(
  tid: i32,
  nthreads: i32,
  x: usize,
  w1: usize,
  s1: usize,
  w3: usize,
  s3: usize,
  y: usize,
  M: i32,
  N: i32,
  K: i32,
  kind: i32,
  scratch: usize,
  scratchStride: i32,
): void {
  const panels = (N + 7) >> 3;
  const c0 = min(shareStart(panels, tid, nthreads) << 3, N);
  const c1 = min(shareStart(panels, tid + 1, nthreads) << 3, N);
  const base = scratch + <usize>tid * scratchStride;
  const gate = base + GEMM_SCRATCH;
  const up = gate + MC * NC * 4;
  for (let jc = c0; jc < c1; jc += NC) {
    const nc = min(NC, c1 - jc);
    for (let ic = 0; ic < M; ic += MC) {
      const mc = min(MC, M - ic);
      // C[i, j] at C + 4(i · NC + j): the [MC, NC] block's origin moved to (ic, jc).
      const shift = (<usize>ic * NC + jc) << 2;
      gemmRange(x, K, 1, kind, w1, s1, K, 1, gate - shift, NC, ic, ic + mc, jc, jc + nc, K, 0, base);
      gemmRange(x, K, 1, kind, w3, s3, K, 1, up - shift, NC, ic, ic + mc, jc, jc + nc, K, 0, base);
      for (let i = 0; i < mc; i++) {
        const o = (<usize>i * NC) << 2;
        siluTimes(gate + o, up + o, y + ((<usize>(ic + i) * N + jc) << 2), nc);
      }
    }
  }
}

/** out[i] = silu(g[i]) · u[i] = g / (1 + e^-g) · u for n elements (out may be g). */
// @ts-ignore: decorator
@inline function siluTimes(g: usize, u: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const s = f32x4.div(gv, f32x4.add(f32x4.splat(1), expf4(f32x4.neg(gv))));
    v128.store(out + o, f32x4.mul(s, v128.load(u + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gv = f32x4.splat(load<f32>(g + o));
    const s = f32x4.div(gv, f32x4.add(f32x4.splat(1), expf4(f32x4.neg(gv))));
    store<f32>(out + o, f32x4.extract_lane(f32x4.mul(s, f32x4.splat(load<f32>(u + o))), 0));
  }
}
