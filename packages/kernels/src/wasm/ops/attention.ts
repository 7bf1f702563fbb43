import type { WasmKernel } from '../kernel.js';

// Stand-in: the scalar kernel until the SIMD attention kernel lands.
export const attention: WasmKernel<'attention'> = (ctx, [q, kCache, vCache], [y], p) =>
  ctx.run(
    'standInAttention',
    [
      ctx.ptr(q),
      ctx.ptr(kCache),
      ctx.ptr(vCache),
      ctx.ptr(y),
      p.batch,
      p.tokens,
      p.heads,
      p.kvHeads,
      p.headDim,
      p.startPos,
      p.slot,
      p.maxSeqLen,
      p.scale,
    ],
    p.batch * p.tokens * p.heads * (p.startPos + p.tokens) * p.headDim,
  );
