import { type WasmKernel, WEIGHT_DTYPE_CODE } from '../kernel.js';
import { weightPointers } from './weights.js';

// Stand-in: the scalar kernel until the SIMD kernel lands.
export const matmulSwiglu: WasmKernel<'matmulSwiglu'> = (ctx, [x, w1, w3], [y], { M, N, K, weightDType }) =>
  ctx.run(
    'standInMatmulSwiglu',
    [
      ctx.ptr(x),
      ...weightPointers(ctx, w1),
      ...weightPointers(ctx, w3),
      ctx.ptr(y),
      M,
      N,
      K,
      WEIGHT_DTYPE_CODE[weightDType],
    ],
    2 * M * N * K,
  );
