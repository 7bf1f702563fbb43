import type { WasmKernel } from '../../wasm/kernel.js';

export const adamwStep: WasmKernel<'adamwStep'> = (ctx, { grad }, { param, m, v }, p) =>
  ctx.run(
    'adamwStep',
    [
      ctx.ptr(grad),
      ctx.ptr(param),
      ctx.ptr(m),
      ctx.ptr(v),
      p.size,
      p.lr,
      p.beta1,
      p.beta2,
      p.eps,
      1 - p.lr * p.weightDecay,
      p.bias1,
      p.bias2,
      p.gradScale,
    ],
    p.size * 4,
  );
