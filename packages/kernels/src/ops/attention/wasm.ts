import type { WasmKernel } from '../../wasm/kernel.js';

/** Per-thread scratch of attention: the probabilities of one query's group of heads over the visible keys. */
function attentionScratchBytes(heads: number, kvHeads: number, startPos: number, tokens: number): number {
  return (heads / kvHeads) * (startPos + tokens) * 4;
}

/** Units of one kv head's query group at one position, round-robin across threads. */
export const attention: WasmKernel<'attention'> = (ctx, { q, kCache, vCache, rows }, { y }, p) => {
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
      rows ? ctx.ptr(rows) : 0,
    ],
    p.batch * p.tokens * p.heads * (p.startPos + p.tokens) * p.headDim,
  );
};
