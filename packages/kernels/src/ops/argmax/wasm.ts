import type { WasmKernel } from '../../wasm/kernel.js';

export const argmax: WasmKernel<'argmax'> = (ctx, { x }, { y }, { rows, cols }) =>
  ctx.run('argmax', [ctx.ptr(x), ctx.ptr(y), rows, cols], rows * cols);
