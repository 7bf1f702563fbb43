import { type WasmKernel, WEIGHT_DTYPE_CODE } from '../kernel.js';
import { GEMM_SCRATCH_BYTES, MATVEC_MAX_ROWS } from '../kernels/sizes.js';
import { weightPointers } from './weights.js';

/**
 * Up to MATVEC_MAX_ROWS rows of x (decode): the matrix-vector kernels, which stream the weight once
 * (q8_0 dequantised exactly: see the package README for the int8-activation variant); more rows
 * (prefill): the packed, register-blocked gemm, dequantising f16/q8_0 weights while packing.
 */
export const matmul: WasmKernel<'matmul'> = (ctx, { x, w }, { y }, { M, N, K, weightDType }) => {
  const [data, scales] = weightPointers(ctx, w);
  if (M <= MATVEC_MAX_ROWS) {
    const args = [ctx.ptr(x), data, ctx.ptr(y), M, N, K];
    if (weightDType === 'f32') ctx.run('matvecF32', args, N * K);
    else if (weightDType === 'f16') ctx.run('matvecF16', args, N * K);
    else ctx.run('matvecQ8_0', [ctx.ptr(x), data, scales, ctx.ptr(y), M, N, K], N * K);
    return;
  }
  const [scratch, stride] = ctx.threadScratch(GEMM_SCRATCH_BYTES);
  ctx.run(
    'matmulGemm',
    [ctx.ptr(x), data, scales, ctx.ptr(y), M, N, K, WEIGHT_DTYPE_CODE[weightDType], scratch, stride],
    2 * M * N * K,
  );
};
