import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

export const sumSquares: CpuKernel<'sumSquares'> = (
  { x },
  { out, partials },
  { size, partials: count, accumulate },
) => {
  const xs = f32(x);
  const os = f32(out);
  const ps = f32(partials);
  const chunk = Math.ceil(size / count);
  let total = 0;
  for (let p = 0; p < count; p++) {
    let sum = 0;
    for (let i = p * chunk; i < Math.min(size, (p + 1) * chunk); i++) sum += (xs[i] as number) ** 2;
    ps[p] = sum;
    total += sum;
  }
  os[0] = (accumulate ? (os[0] as number) : 0) + total;
};
