import type { WasmKernel } from '../../wasm/kernel.js';

export const crossEntropy: WasmKernel<'crossEntropy'> = (ctx, { logits, targets }, { loss, dLogits }, p) =>
  ctx.run(
    'crossEntropy',
    [ctx.ptr(logits), ctx.ptr(targets), ctx.ptr(loss), ctx.ptr(dLogits), p.rows, p.cols, p.scale],
    p.rows * p.cols * 4,
  );
