/** matmul's two gradients on the wasm backend: one strided gemm (src/wasm/kernels/gemm.as.ts), two operand layouts. */
import type { WasmKernel } from '../../wasm/kernel.js';
import { GEMM_SCRATCH_BYTES } from '../../wasm/kernels/sizes.js';

/** dX [M, K] = dY [M, N] · W [N, K]: the strided gemm with W read transposed (its rows are the summed axis). */
export const matmulGradInput: WasmKernel<'matmulGradInput'> = (ctx, { dY, w }, { dX }, { M, N, K }) => {
  const [scratch, stride] = ctx.threadScratch(GEMM_SCRATCH_BYTES);
  ctx.run('gemmF32', [ctx.ptr(dY), N, 1, ctx.ptr(w), 1, K, ctx.ptr(dX), K, M, K, N, 0, scratch, stride], 2 * M * N * K);
};

/** dW [N, K] (+)= dYᵀ · X: the strided gemm with both operands read transposed (the summed axis is m). */
export const matmulGradWeight: WasmKernel<'matmulGradWeight'> = (ctx, { dY, x }, { dW }, { M, N, K, accumulate }) => {
  const [scratch, stride] = ctx.threadScratch(GEMM_SCRATCH_BYTES);
  ctx.run(
    'gemmF32',
    [ctx.ptr(dY), 1, N, ctx.ptr(x), 1, K, ctx.ptr(dW), K, N, K, M, accumulate ? 1 : 0, scratch, stride],
    2 * M * N * K,
  );
};
