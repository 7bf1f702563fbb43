import type { WasmKernel } from '../kernel.js';
import { attentionScratchBytes } from '../kernels/sizes.js';

/** Units of one kv head's query group at one position, round-robin across threads. */
export const attention: WasmKernel<'attention'> = (ctx, { q, kCache, vCache }, { y }, p) => {
  const [scratch, stride] = ctx.threadScratch(attentionScratchBytes(p.heads, p.kvHeads, p.startPos, p.tokens));
  ctx.run(
    'attention',
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
      scratch,
      stride,
    ],
    p.batch * p.tokens * p.heads * (p.startPos + p.tokens) * p.headDim,
  );
};
