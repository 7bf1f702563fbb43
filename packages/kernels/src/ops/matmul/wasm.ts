/**
 * The matmul family on the wasm backend. Up to MATVEC_MAX_ROWS rows of x (decode): the
 * matrix-vector kernels of src/wasm/kernels/matvec.as.ts and blocks.as.ts, which stream the weight
 * once (q8_0 and the 4-6-bit formats against x quantized to int8 per block of 32, as llama.cpp
 * does); more rows (prefill): the packed, register-blocked gemm of src/wasm/kernels/gemm.as.ts,
 * dequantising f16 and block weights exactly while packing. The gated form's own kernels are in
 * matmul-swiglu.as.ts.
 */
import { byteSize, type WeightDType } from '../../dtype.js';
import type { Tensor } from '../../tensor.js';
import { type WasmKernel, type WasmOpContext, WEIGHT_DTYPE_CODE } from '../../wasm/kernel.js';
import { GEMM_SCRATCH_BYTES, MATVEC_MAX_ROWS, q8ActivationBytes } from '../../wasm/kernels/sizes.js';
import { weightPointers } from '../../wasm/weights.js';

/** The 4-6-bit block formats, whose kernels are in kernels/blocks.as.ts. */
const isFourToSixBit = (dtype: WeightDType) => dtype !== 'f32' && dtype !== 'f16' && dtype !== 'q8_0';

/** Per-thread scratch of matmulSwigluGemm: the gemm's packing plus a 128 × 128 gate and up block. */
const MATMUL_SWIGLU_SCRATCH_BYTES = GEMM_SCRATCH_BYTES + 2 * 128 * 128 * 4;

/** Weight bytes per matrix-vector part, about: small enough that a held-up thread costs little. */
const MATVEC_PART_BYTES = 256 * 1024;

/**
 * How many parts a matrix-vector product's rows are cut into: a multiple of the threads (equal
 * shares when every thread runs), at least 4 per thread, more for large matrices, so that a
 * thread the OS holds up while it has a part delays the op by one small part (see control.ts).
 */
function matvecParts(ctx: WasmOpContext, weightBytes: number): number {
  const perThread = Math.min(64, Math.max(4, Math.ceil(weightBytes / (MATVEC_PART_BYTES * ctx.threads))));
  return perThread * ctx.threads;
}

/** The x the matrix-vector kernels read for these weights: x itself (f32, f16), or x quantized into scratch. */
function matvecInput(ctx: WasmOpContext, x: Tensor, w: Tensor, M: number, K: number): number {
  if (w.dtype === 'f32' || w.dtype === 'f16') return ctx.ptr(x);
  const xq = ctx.scratch(q8ActivationBytes(M, K));
  ctx.runSingle('quantizeQ8Activations', [ctx.ptr(x), xq, M, K]);
  return xq;
}

/** Decode with q8_0 and the 4-6-bit block formats runs against int8 activations (matvec.as.ts, blocks.as.ts). */
export const matmul: WasmKernel<'matmul'> = (ctx, { x, w }, { y }, { M, N, K, weightDType }) => {
  const [data, scales] = weightPointers(ctx, w);
  if (M <= MATVEC_MAX_ROWS) {
    const input = matvecInput(ctx, x, w, M, K);
    const parts = matvecParts(ctx, byteSize(w.dtype, w.size));
    if (isFourToSixBit(weightDType)) {
      const args = [input, data, scales, ctx.ptr(y), M, N, K, WEIGHT_DTYPE_CODE[weightDType]];
      ctx.run('matvecBlocksQ8', args, N * K, parts);
    } else if (weightDType === 'f32') ctx.run('matvecF32', [input, data, ctx.ptr(y), M, N, K], N * K, parts);
    else if (weightDType === 'f16') ctx.run('matvecF16', [input, data, ctx.ptr(y), M, N, K], N * K, parts);
    else ctx.run('matvecQ8_0', [input, data, scales, ctx.ptr(y), M, N, K], N * K, parts);
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
 * The gate and up products fused with silu(gate)·up: the fused matrix-vector kernel for decode (q8_0
 * against int8 activations, as matmul), the packed gemm for prefill.
 */
export const matmulSwiglu: WasmKernel<'matmulSwiglu'> = (ctx, { x, w1, w3 }, { y }, { M, N, K, weightDType }) => {
  const kind = WEIGHT_DTYPE_CODE[weightDType];
  const weights = [...weightPointers(ctx, w1), ...weightPointers(ctx, w3)];
  if (M <= MATVEC_MAX_ROWS && isFourToSixBit(weightDType)) {
    // No fused kernel for the block formats yet: x quantized once, the two products, then silu(gate)·up.
    const input = matvecInput(ctx, x, w1, M, K);
    const gate = ctx.scratch(M * N * 4);
    const up = ctx.scratch(M * N * 4);
    const parts = matvecParts(ctx, byteSize(w1.dtype, w1.size));
    ctx.run('matvecBlocksQ8', [input, ...weightPointers(ctx, w1), gate, M, N, K, kind], N * K, parts);
    ctx.run('matvecBlocksQ8', [input, ...weightPointers(ctx, w3), up, M, N, K, kind], N * K, parts);
    ctx.run('swiglu', [gate, up, ctx.ptr(y), M * N], M * N * 4);
    return;
  }
  if (M <= MATVEC_MAX_ROWS) {
    const input = matvecInput(ctx, x, w1, M, K);
    const up = ctx.scratch(M * N * 4);
    const parts = matvecParts(ctx, 2 * byteSize(w1.dtype, w1.size));
    ctx.run('matvecSwiglu', [input, ...weights, ctx.ptr(y), up, M, N, K, kind], 2 * N * K, parts);
    return;
  }
  const [scratch, stride] = ctx.threadScratch(MATMUL_SWIGLU_SCRATCH_BYTES);
  ctx.run('matmulSwigluGemm', [ctx.ptr(x), ...weights, ctx.ptr(y), M, N, K, kind, scratch, stride], 4 * M * N * K);
};
