/**
 * What the glue of the matmul family needs to know about D2's kernels (matvec.as.ts, gemm.as.ts,
 * matmul-swiglu.as.ts): the scratch each thread needs and when the matrix-vector form is used.
 * Keep in step with the constants of those files (the tests exercise every size through the ops).
 */

/** x rows up to which matmul and matmulSwiglu take the matrix-vector kernels (weights streamed once). */
export const MATVEC_MAX_ROWS = 4;

/** Per-thread scratch of gemmF32, matmulGemm: packed A (128 × 256 f32) + packed B (128 × 256) + one 4 × 8 tile. */
export const GEMM_SCRATCH_BYTES = (128 * 256 + 128 * 256 + 4 * 8) * 4;

/** Per-thread scratch of matmulSwigluGemm: the gemm's packing plus a 128 × 128 gate and up block. */
export const MATMUL_SWIGLU_SCRATCH_BYTES = GEMM_SCRATCH_BYTES + 2 * 128 * 128 * 4;

/** Per-thread scratch of matvecQ8_0Int8: x quantized to int16 (2 bytes per element) and one f32 scale per 32. */
export function matvecQ8_0Int8ScratchBytes(M: number, K: number): number {
  return M * (K * 2 + (K / 32) * 4);
}

/** matvecSwiglu's weight kind for q8_0 against int8-quantized activations (0-2 are WEIGHT_DTYPE_CODE's). */
export const MATVEC_SWIGLU_Q8_0_INT8 = 3;

/** Per-thread scratch of matvecSwiglu: the up values [M, N] (64-byte aligned), then the quantized x (q8_0). */
export function matvecSwigluScratchBytes(M: number, N: number, K: number): number {
  return ((M * N * 4 + 63) & ~63) + matvecQ8_0Int8ScratchBytes(M, K);
}

/** Rounds a per-thread scratch size up to a 64-byte stride. */
export function scratchStride(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** Per-thread scratch of attention: the probabilities of one query's group of heads over the visible keys. */
export function attentionScratchBytes(heads: number, kvHeads: number, startPos: number, tokens: number): number {
  return (heads / kvHeads) * (startPos + tokens) * 4;
}

/** Per-thread scratch of attentionBackward: the gemm's packing, then P and dS (T × T f32 each). */
export function attentionBackwardScratchBytes(tokens: number): number {
  return GEMM_SCRATCH_BYTES + 2 * tokens * tokens * 4;
}
