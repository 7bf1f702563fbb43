import type { WasmKernel } from '../kernel.js';
import { attentionBackwardScratchBytes } from '../kernels/sizes.js';

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
