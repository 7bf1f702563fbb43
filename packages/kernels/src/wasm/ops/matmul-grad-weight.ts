import type { WasmKernel } from '../kernel.js';

// Stand-in: the scalar kernel until the packed GEMM lands.
export const matmulGradWeight: WasmKernel<'matmulGradWeight'> = (ctx, [dY, x], [dW], { M, N, K, accumulate }) =>
  ctx.run('standInMatmulGradWeight', [ctx.ptr(dY), ctx.ptr(x), ctx.ptr(dW), M, N, K, accumulate ? 1 : 0], M * N * K);
