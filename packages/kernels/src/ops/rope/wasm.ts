import type { WasmKernel } from '../../wasm/kernel.js';

export const rope: WasmKernel<'rope'> = (ctx, { x, table, rows }, { y }, p) =>
  ctx.run(
    'rope',
    [
      ctx.ptr(x),
      ctx.ptr(table),
      ctx.ptr(y),
      p.batch,
      p.tokens,
      p.heads,
      p.headDim,
      p.startPos,
      p.layout === 'interleaved' ? 1 : 0,
      p.inverse ? 1 : 0,
      rows ? ctx.ptr(rows) : 0,
    ],
    p.batch * p.tokens * p.heads * p.headDim * 2,
  );
