import { rowPlacement } from '../../cpu/cache-rows.js';
import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

export const kvWrite: CpuKernel<'kvWrite'> = ({ values, rows }, { cache }, p) => {
  const placement = rowPlacement(rows, p);
  const vs = f32(values);
  const cs = f32(cache);
  const rowSize = p.kvHeads * p.headDim;
  for (let b = 0; b < p.batch; b++) {
    const source = b * p.tokens * rowSize;
    const { slot, startPos } = placement(b);
    const target = (slot * p.maxSeqLen + startPos) * rowSize;
    cs.set(vs.subarray(source, source + p.tokens * rowSize), target);
  }
};
