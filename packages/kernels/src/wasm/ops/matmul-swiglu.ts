import { type WasmKernel, WEIGHT_DTYPE_CODE } from '../kernel.js';
import { MATMUL_SWIGLU_SCRATCH_BYTES, MATVEC_MAX_ROWS, matvecSwigluScratchBytes } from '../kernels/sizes.js';
import { weightPointers } from './weights.js';

/**
 * The gate and up products fused with silu(gate)·up: the fused matrix-vector kernel for decode, the
 * packed gemm for prefill. q8_0 decode runs the exact matrix-vector kernel twice and swiglu instead
 * (the fused kernel quantises x to int8 for q8_0, outside the op suite's f32 tolerance).
 */
export const matmulSwiglu: WasmKernel<'matmulSwiglu'> = (ctx, { x, w1, w3 }, { y }, { M, N, K, weightDType }) => {
  const decode = M <= MATVEC_MAX_ROWS;
  if (decode && weightDType === 'q8_0') {
    const gate = ctx.scratch(M * N * 4);
    const up = ctx.scratch(M * N * 4);
    ctx.run('matvecQ8_0', [ctx.ptr(x), ...weightPointers(ctx, w1), gate, M, N, K], N * K);
    ctx.run('matvecQ8_0', [ctx.ptr(x), ...weightPointers(ctx, w3), up, M, N, K], N * K);
    ctx.run('swiglu', [gate, up, ctx.ptr(y), M * N], M * N * 4);
    return;
  }
  const [scratch, stride] = ctx.threadScratch(decode ? matvecSwigluScratchBytes(M, N, K) : MATMUL_SWIGLU_SCRATCH_BYTES);
  ctx.run(
    decode ? 'matvecSwiglu' : 'matmulSwigluGemm',
    [
      ctx.ptr(x),
      ...weightPointers(ctx, w1),
      ...weightPointers(ctx, w3),
      ctx.ptr(y),
      M,
      N,
      K,
      WEIGHT_DTYPE_CODE[weightDType],
      scratch,
      stride,
    ],
    decode ? 2 * N * K : 4 * M * N * K,
  );
};
