import type { WasmKernel } from '../../wasm/kernel.js';

export const logSoftmaxGather: WasmKernel<'logSoftmaxGather'> = (ctx, { x, ids }, { y }, { rows, cols }) =>
  ctx.run('logSoftmaxGather', [ctx.ptr(x), ctx.ptr(ids), ctx.ptr(y), rows, cols], rows * cols * 2);
