import type { WasmKernel } from '../../wasm/kernel.js';

export const swiglu: WasmKernel<'swiglu'> = (ctx, { a, b }, { y }, { size }) =>
  ctx.run('swiglu', [ctx.ptr(a), ctx.ptr(b), ctx.ptr(y), size], size * 4);
