import { type WasmKernel, WEIGHT_DTYPE_CODE } from '../kernel.js';
import { weightPointers } from './weights.js';

// Stand-in: the scalar kernel until the SIMD matrix-vector / packed GEMM kernels land.
export const matmul: WasmKernel<'matmul'> = (ctx, [x, w], [y], { M, N, K, weightDType }) =>
  ctx.run(
    'standInMatmul',
    [ctx.ptr(x), ...weightPointers(ctx, w), ctx.ptr(y), M, N, K, WEIGHT_DTYPE_CODE[weightDType]],
    M * N * K,
  );
