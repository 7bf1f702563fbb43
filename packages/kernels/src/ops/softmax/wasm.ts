import type { WasmKernel } from '../../wasm/kernel.js';

export const softmax: WasmKernel<'softmax'> = (ctx, { x }, { y }, { rows, cols }) =>
  ctx.run('softmax', [ctx.ptr(x), ctx.ptr(y), rows, cols], rows * cols * 4);
