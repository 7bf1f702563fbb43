import type { WasmKernel } from '../kernel.js';

// Stand-in: the scalar kernel until the SIMD attention backward lands.
export const attentionBackward: WasmKernel<'attentionBackward'> = (ctx, [q, k, v, dOut], [dQ, dK, dV, stats], p) =>
  ctx.run(
    'standInAttentionBackward',
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
    ],
    p.batch * p.tokens * p.tokens * p.heads * p.headDim,
  );
