import type { WasmKernel } from '../../wasm/kernel.js';

export const add: WasmKernel<'add'> = (ctx, { a, b }, { y }, { size }) =>
  ctx.run('add', [ctx.ptr(a), ctx.ptr(b), ctx.ptr(y), size], size);
