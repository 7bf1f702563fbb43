import type { WasmKernel } from '../../wasm/kernel.js';
import { GEMM_SCRATCH_BYTES } from '../../wasm/kernels/sizes.js';

/** Per-thread scratch of attentionBackward: the gemm's packing, then P and dS (T × T f32 each). */
function attentionBackwardScratchBytes(tokens: number): number {
  return GEMM_SCRATCH_BYTES + 2 * tokens * tokens * 4;
}

/** One (sequence, kv head) per unit, so each thread owns its dK and dV slices; on the packed gemm. */
export const attentionBackward: WasmKernel<'attentionBackward'> = (
  ctx,
  { q, k, v, dOut },
  { dQ, dK, dV, stats },
  p,
) => {
  const [scratch, stride] = ctx.threadScratch(attentionBackwardScratchBytes(p.tokens));
  ctx.run(
    'attentionBackward',
    [
      ctx.ptr(q),
      ctx.ptr(k),
      ctx.ptr(v),
      ctx.ptr(dOut),
      ctx.ptr(dQ),
      ctx.ptr(dK),
      ctx.ptr(dV),
      ctx.ptr(stats),
      p.batch,
      p.tokens,
      p.heads,
      p.kvHeads,
      p.headDim,
      p.scale,
      scratch,
      stride,
    ],
    p.batch * p.tokens * p.tokens * p.heads * p.headDim,
  );
};
