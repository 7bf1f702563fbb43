import type { WasmKernel } from '../../wasm/kernel.js';

export const rmsNorm: WasmKernel<'rmsNorm'> = (ctx, { x, weight }, { y }, { rows, dim, eps }) =>
  ctx.run('rmsNorm', [ctx.ptr(x), ctx.ptr(weight), ctx.ptr(y), rows, dim, eps], rows * dim);
