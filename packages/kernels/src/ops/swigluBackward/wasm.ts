import type { WasmKernel } from '../../wasm/kernel.js';

export const swigluBackward: WasmKernel<'swigluBackward'> = (ctx, { a, b, dY }, { dA, dB }, { size }) =>
  ctx.run('swigluBackward', [ctx.ptr(a), ctx.ptr(b), ctx.ptr(dY), ctx.ptr(dA), ctx.ptr(dB), size], size * 4);
