import type { WasmKernel } from '../../wasm/kernel.js';

/** Two passes: dX and rstd per row (rows split across threads), then dWeight per column (columns split). */
export const rmsNormBackward: WasmKernel<'rmsNormBackward'> = (ctx, { x, weight, dY }, { dX, dWeight, rstd }, p) => {
  const work = p.rows * p.dim;
  ctx.run(
    'rmsNormBackwardRows',
    [ctx.ptr(x), ctx.ptr(weight), ctx.ptr(dY), ctx.ptr(dX), ctx.ptr(rstd), p.rows, p.dim, p.eps],
    work,
  );
  ctx.run(
    'rmsNormBackwardWeight',
    [ctx.ptr(x), ctx.ptr(dY), ctx.ptr(rstd), ctx.ptr(dWeight), p.rows, p.dim, p.accumulate ? 1 : 0],
    work,
  );
};
