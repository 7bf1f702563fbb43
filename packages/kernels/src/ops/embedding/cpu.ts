import type { CpuKernel } from '../../cpu/kernel.js';
import { f32, i32, weightRowReader } from '../../cpu/views.js';

export const embedding: CpuKernel<'embedding'> = ({ table, ids }, { y }, p) => {
  const tokenIds = i32(ids);
  const out = f32(y);
  const readRow = weightRowReader(table, p.dim);
  const scratch = new Float32Array(p.dim);
  for (let t = 0; t < p.tokens; t++) {
    const id = tokenIds[t] as number;
    if (id < 0 || id >= p.vocab) out.fill(0, t * p.dim, (t + 1) * p.dim);
    else out.set(readRow(id, scratch), t * p.dim);
  }
};
