import type { WasmKernel } from '../kernel.js';

// Stand-in: the scalar kernel until the packed GEMM lands.
export const matmulGradInput: WasmKernel<'matmulGradInput'> = (ctx, [dY, w], [dX], { M, N, K }) =>
  ctx.run('standInMatmulGradInput', [ctx.ptr(dY), ctx.ptr(w), ctx.ptr(dX), M, N, K], M * N * K);
