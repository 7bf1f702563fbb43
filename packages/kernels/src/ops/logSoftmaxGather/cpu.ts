import type { CpuKernel } from '../../cpu/kernel.js';
import { rowMax } from '../../cpu/reduce.js';
import { f32, i32 } from '../../cpu/views.js';

export const logSoftmaxGather: CpuKernel<'logSoftmaxGather'> = ({ x, ids }, { y }, { rows, cols }) => {
  const xs = f32(x);
  const chosen = i32(ids);
  const ys = f32(y);
  for (let r = 0; r < rows; r++) {
    const id = chosen[r] as number;
    if (id < 0 || id >= cols) {
      ys[r] = 0;
      continue;
    }
    const base = r * cols;
    const max = rowMax(xs, base, cols);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp((xs[base + c] as number) - max);
    ys[r] = (xs[base + id] as number) - max - Math.log(sum);
  }
};
