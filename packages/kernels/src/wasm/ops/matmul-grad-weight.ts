import type { WasmKernel } from '../kernel.js';
import { GEMM_SCRATCH_BYTES } from '../kernels/sizes.js';

/** dW [N, K] (+)= dYᵀ · X: the strided gemm with both operands read transposed (the summed axis is m). */
export const matmulGradWeight: WasmKernel<'matmulGradWeight'> = (ctx, { dY, x }, { dW }, { M, N, K, accumulate }) => {
  const [scratch, stride] = ctx.threadScratch(GEMM_SCRATCH_BYTES);
  ctx.run(
    'gemmF32',
    [ctx.ptr(dY), 1, N, ctx.ptr(x), 1, K, ctx.ptr(dW), K, N, K, M, accumulate ? 1 : 0, scratch, stride],
    2 * M * N * K,
  );
};
