import type { WasmKernel } from '../../wasm/kernel.js';

export const kvWrite: WasmKernel<'kvWrite'> = (ctx, { values }, { cache }, p) => {
  const rowSize = p.kvHeads * p.headDim;
  ctx.run(
    'kvWrite',
    [ctx.ptr(values), ctx.ptr(cache), p.batch, p.tokens, rowSize, p.startPos, p.slot, p.maxSeqLen],
    p.batch * p.tokens * rowSize,
  );
};
