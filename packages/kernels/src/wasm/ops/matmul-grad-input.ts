import type { WasmKernel } from '../kernel.js';
import { GEMM_SCRATCH_BYTES } from '../kernels/sizes.js';

/** dX [M, K] = dY [M, N] · W [N, K]: the strided gemm with W read transposed (its rows are the summed axis). */
export const matmulGradInput: WasmKernel<'matmulGradInput'> = (ctx, { dY, w }, { dX }, { M, N, K }) => {
  const [scratch, stride] = ctx.threadScratch(GEMM_SCRATCH_BYTES);
  ctx.run('gemmF32', [ctx.ptr(dY), N, 1, ctx.ptr(w), 1, K, ctx.ptr(dX), K, M, K, N, 0, scratch, stride], 2 * M * N * K);
};
