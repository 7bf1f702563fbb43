import type { CpuKernel } from '../../cpu/kernel.js';
import { rowMax } from '../../cpu/reduce.js';
import { f32 } from '../../cpu/views.js';

export const softmax: CpuKernel<'softmax'> = ({ x }, { y }, { rows, cols }) => {
  const xs = f32(x);
  const ys = f32(y);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const max = rowMax(xs, base, cols);
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp((xs[base + c] as number) - max);
      ys[base + c] = e;
      sum += e;
    }
    for (let c = 0; c < cols; c++) ys[base + c] = (ys[base + c] as number) / sum;
  }
};
