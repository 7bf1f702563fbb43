import type { WasmKernel } from '../../wasm/kernel.js';

/** Two passes: the partial sums (split across threads), then their total on one thread. */
export const sumSquares: WasmKernel<'sumSquares'> = (ctx, { x }, { out, partials }, p) => {
  ctx.run('sumSquaresPartials', [ctx.ptr(x), ctx.ptr(partials), p.size, p.partials], p.size);
  ctx.runSingle('sumSquaresTotal', [ctx.ptr(partials), ctx.ptr(out), p.partials, p.accumulate ? 1 : 0]);
};
