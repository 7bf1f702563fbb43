import type { CpuKernel } from '../../cpu/kernel.js';
import { f32, i32 } from '../../cpu/views.js';

export const embeddingBackward: CpuKernel<'embeddingBackward'> = ({ ids, dY }, { dTable }, p) => {
  const { tokens, vocab, dim, accumulate } = p;
  const tokenIds = i32(ids);
  const gs = f32(dY);
  const out = f32(dTable);
  if (!accumulate) out.fill(0);
  for (let t = 0; t < tokens; t++) {
    const id = tokenIds[t] as number;
    if (id < 0 || id >= vocab) continue;
    for (let d = 0; d < dim; d++) out[id * dim + d] = (out[id * dim + d] as number) + (gs[t * dim + d] as number);
  }
};
