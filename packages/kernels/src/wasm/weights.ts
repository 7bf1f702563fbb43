import { q8_0ScalesOffset } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import type { WasmOpContext } from './kernel.js';

/** A weight's quants/values address and its q8_0 scales address (the same address for f32 and f16). */
export function weightPointers(ctx: WasmOpContext, w: Tensor): [data: number, scales: number] {
  const data = ctx.ptr(w);
  return [data, w.dtype === 'q8_0' ? data + q8_0ScalesOffset(w.size) : data];
}
