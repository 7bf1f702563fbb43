import type { WasmKernel } from '../../wasm/kernel.js';

export const embeddingBackward: WasmKernel<'embeddingBackward'> = (ctx, { ids, dY }, { dTable }, p) =>
  ctx.run(
    'embeddingBackward',
    [ctx.ptr(ids), ctx.ptr(dY), ctx.ptr(dTable), p.tokens, p.vocab, p.dim, p.accumulate ? 1 : 0],
    (p.tokens + p.vocab) * p.dim,
  );
