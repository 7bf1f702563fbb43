import type { WasmKernel } from '../../wasm/kernel.js';

export const kvWrite: WasmKernel<'kvWrite'> = (ctx, { values, rows }, { cache }, p) => {
  const rowSize = p.kvHeads * p.headDim;
  ctx.run(
    'kvWrite',
    [
      ctx.ptr(values),
      ctx.ptr(cache),
      p.batch,
      p.tokens,
      rowSize,
      p.startPos,
      p.slot,
      p.maxSeqLen,
      rows ? ctx.ptr(rows) : 0,
    ],
    p.batch * p.tokens * rowSize,
  );
};
