/**
 * What the ops' glue needs to know about the shared kernels (matvec.as.ts, gemm.as.ts): the
 * scratch each thread needs and when the matrix-vector form is used. Keep in step with the
 * constants of those files (the tests exercise every size through the ops). A size that belongs to
 * one op's own kernel sits in that op's wasm.ts.
 */

/** x rows up to which matmul and matmulSwiglu take the matrix-vector kernels (weights streamed once). */
export const MATVEC_MAX_ROWS = 4;

/** Per-thread scratch of gemmF32, matmulGemm: packed A (128 × 256 f32) + packed B (128 × 256) + one 4 × 8 tile. */
export const GEMM_SCRATCH_BYTES = (128 * 256 + 128 * 256 + 4 * 8) * 4;

/**
 * Bytes of x quantized by quantizeQ8Activations for matvecQ8_0 and matvecBlocksQ8: [M, K] as 64
 * bytes per block of 32 (int16, or |x| and sign bytes with relaxed SIMD), then [M, K / 32] f32
 * scales, then [M, K / 32] f32 block sums.
 */
export function q8ActivationBytes(M: number, K: number): number {
  return M * (K * 2 + (K / 32) * 8);
}

/** Rounds a per-thread scratch size up to a 64-byte stride. */
export function scratchStride(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}
