import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

export const kvWrite: CpuKernel<'kvWrite'> = ({ values }, { cache }, p) => {
  const vs = f32(values);
  const cs = f32(cache);
  const rowSize = p.kvHeads * p.headDim;
  for (let b = 0; b < p.batch; b++) {
    const source = b * p.tokens * rowSize;
    const target = ((p.slot + b) * p.maxSeqLen + p.startPos) * rowSize;
    cs.set(vs.subarray(source, source + p.tokens * rowSize), target);
  }
};
