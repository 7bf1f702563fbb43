import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

export const rmsNormBackward: CpuKernel<'rmsNormBackward'> = (
  { x, weight, dY },
  { dX, dWeight, rstd: rstdOut },
  { rows, dim, eps, accumulate },
) => {
  const xs = f32(x);
  const ws = f32(weight);
  const gs = f32(dY);
  const dxs = f32(dX);
  const dws = f32(dWeight);
  const rstds = f32(rstdOut);
  const dw = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sumSquares = 0;
    let dot = 0;
    for (let i = 0; i < dim; i++) {
      const xi = xs[base + i] as number;
      sumSquares += xi * xi;
      dot += (gs[base + i] as number) * (ws[i] as number) * xi;
    }
    const rstd = 1 / Math.sqrt(sumSquares / dim + eps);
    rstds[r] = rstd;
    const coefficient = (dot * rstd * rstd * rstd) / dim;
    for (let i = 0; i < dim; i++) {
      const xi = xs[base + i] as number;
      const g = gs[base + i] as number;
      dxs[base + i] = g * (ws[i] as number) * rstd - xi * coefficient;
      dw[i] = (dw[i] as number) + g * xi * rstd;
    }
  }
  for (let i = 0; i < dim; i++) dws[i] = (accumulate ? (dws[i] as number) : 0) + (dw[i] as number);
};
