import type { CpuKernel } from '../../cpu/kernel.js';
import { f32, i32 } from '../../cpu/views.js';

export const crossEntropy: CpuKernel<'crossEntropy'> = ({ logits, targets }, { loss, dLogits }, p) => {
  const { rows, cols, scale } = p;
  const xs = f32(logits);
  const ids = i32(targets);
  const ls = f32(loss);
  const ds = f32(dLogits);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const id = ids[r] as number;
    if (id < 0 || id >= cols) {
      ls[r] = 0;
      ds.fill(0, base, base + cols);
      continue;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < cols; c++) max = Math.max(max, xs[base + c] as number);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp((xs[base + c] as number) - max);
    ls[r] = Math.log(sum) - ((xs[base + id] as number) - max);
    for (let c = 0; c < cols; c++) {
      const q = Math.exp((xs[base + c] as number) - max) / sum;
      ds[base + c] = (q - (c === id ? 1 : 0)) * scale;
    }
  }
};
