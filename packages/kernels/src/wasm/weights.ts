import { isBlockDType, planeOffsets } from '../quant/layout.js';
import type { Tensor } from '../tensor.js';
import type { WasmOpContext } from './kernel.js';

/**
 * A weight's quants/values address and, for the block formats (q8_0 and the 4-6-bit ones), the
 * address of its second plane (q8_0's scales; see kernels/blocks.as.ts); the same address for f32 and f16.
 */
export function weightPointers(ctx: WasmOpContext, w: Tensor): [data: number, scales: number] {
  const data = ctx.ptr(w);
  return [data, isBlockDType(w.dtype) ? data + (planeOffsets(w.dtype, w.size)[1] as number) : data];
}
