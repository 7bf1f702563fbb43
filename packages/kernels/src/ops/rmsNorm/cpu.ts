import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

export const rmsNorm: CpuKernel<'rmsNorm'> = ({ x, weight }, { y }, { rows, dim, eps }) => {
  const xs = f32(x);
  const ws = f32(weight);
  const ys = f32(y);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sumSquares = 0;
    for (let i = 0; i < dim; i++) sumSquares += (xs[base + i] as number) ** 2;
    const inverse = 1 / Math.sqrt(sumSquares / dim + eps);
    for (let i = 0; i < dim; i++) ys[base + i] = (xs[base + i] as number) * inverse * (ws[i] as number);
  }
};
