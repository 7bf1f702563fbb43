import { gemm, into, rowMajor, transposed } from '../../cpu/gemm.js';
import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

/**
 * dX [M, K] = dY [M, N] · W [N, K]: the gemm with W read transposed (its rows n are the summed
 * axis), so nothing is transposed in memory and the inner loop stays register-blocked.
 */
export const matmulGradInput: CpuKernel<'matmulGradInput'> = ({ dY, w }, { dX }, { M, N, K }) => {
  gemm(rowMajor(f32(dY), N), transposed(f32(w), K), into(f32(dX), K), M, K, N);
};

/** dW [N, K] (+)= dYᵀ · X: the gemm with both operands read transposed (the summed axis is m). */
export const matmulGradWeight: CpuKernel<'matmulGradWeight'> = ({ dY, x }, { dW }, { M, N, K, accumulate }) => {
  gemm(transposed(f32(dY), N), transposed(f32(x), K), into(f32(dW), K, { accumulate }), N, K, M);
};
