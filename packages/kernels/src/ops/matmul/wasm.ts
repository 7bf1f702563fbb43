/**
 * The matmul family on the wasm backend. Up to MATVEC_MAX_ROWS rows of x (decode): the
 * matrix-vector kernels of src/wasm/kernels/matvec.as.ts, which stream the weight once; more rows
 * (prefill): the packed, register-blocked gemm of src/wasm/kernels/gemm.as.ts, dequantising
 * f16/q8_0 weights while packing. The gated form's own kernels are in matmul-swiglu.as.ts.
 */
import type { WeightDType } from '../../dtype.js';
import { type WasmKernel, WEIGHT_DTYPE_CODE } from '../../wasm/kernel.js';
import { GEMM_SCRATCH_BYTES, MATVEC_MAX_ROWS, matvecQ8_0Int8ScratchBytes } from '../../wasm/kernels/sizes.js';
import { weightPointers } from '../../wasm/weights.js';

/** The 4-6-bit block formats, whose kernels are in kernels/blocks.as.ts. */
const isFourToSixBit = (dtype: WeightDType) => dtype !== 'f32' && dtype !== 'f16' && dtype !== 'q8_0';

/** Per-thread scratch of matmulSwigluGemm: the gemm's packing plus a 128 × 128 gate and up block. */
const MATMUL_SWIGLU_SCRATCH_BYTES = GEMM_SCRATCH_BYTES + 2 * 128 * 128 * 4;

/** matvecSwiglu's weight kind for q8_0 against int8-quantized activations (0-2 are WEIGHT_DTYPE_CODE's). */
export const MATVEC_SWIGLU_Q8_0_INT8 = 3;

/** Per-thread scratch of matvecSwiglu: the up values [M, N] (64-byte aligned), then the quantized x (q8_0). */
function matvecSwigluScratchBytes(M: number, N: number, K: number): number {
  return ((M * N * 4 + 63) & ~63) + matvecQ8_0Int8ScratchBytes(M, K);
}

/**
 * q8_0 is dequantised exactly (see the package README for the int8-activation variant), and so are
 * the 4-6-bit block formats (kernels/blocks.as.ts).
 */
export const matmul: WasmKernel<'matmul'> = (ctx, { x, w }, { y }, { M, N, K, weightDType }) => {
  const [data, scales] = weightPointers(ctx, w);
  if (M <= MATVEC_MAX_ROWS) {
    const args = [ctx.ptr(x), data, ctx.ptr(y), M, N, K];
    if (isFourToSixBit(weightDType)) {
      ctx.run('matvecBlocks', [ctx.ptr(x), data, scales, ctx.ptr(y), M, N, K, WEIGHT_DTYPE_CODE[weightDType]], N * K);
    } else if (weightDType === 'f32') ctx.run('matvecF32', args, N * K);
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

/**
 * The gate and up products fused with silu(gate)·up: the fused matrix-vector kernel for decode, the
 * packed gemm for prefill. q8_0 decode runs the exact matrix-vector kernel twice and swiglu instead
 * (the fused kernel quantises x to int8 for q8_0, outside the op suite's f32 tolerance).
 */
export const matmulSwiglu: WasmKernel<'matmulSwiglu'> = (ctx, { x, w1, w3 }, { y }, { M, N, K, weightDType }) => {
  const decode = M <= MATVEC_MAX_ROWS;
  if (decode && isFourToSixBit(weightDType)) {
    const gate = ctx.scratch(M * N * 4);
    const up = ctx.scratch(M * N * 4);
    const kind = WEIGHT_DTYPE_CODE[weightDType];
    ctx.run('matvecBlocks', [ctx.ptr(x), ...weightPointers(ctx, w1), gate, M, N, K, kind], N * K);
    ctx.run('matvecBlocks', [ctx.ptr(x), ...weightPointers(ctx, w3), up, M, N, K, kind], N * K);
    ctx.run('swiglu', [gate, up, ctx.ptr(y), M * N], M * N * 4);
    return;
  }
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
