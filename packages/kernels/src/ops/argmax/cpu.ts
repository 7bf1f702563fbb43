import type { CpuKernel } from '../../cpu/kernel.js';
import { f32, i32 } from '../../cpu/views.js';

export const argmax: CpuKernel<'argmax'> = ({ x }, { y }, { rows, cols }) => {
  const xs = f32(x);
  const ys = i32(y);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let best = 0;
    for (let c = 1; c < cols; c++) if ((xs[base + c] as number) > (xs[base + best] as number)) best = c;
    ys[r] = best;
  }
};
