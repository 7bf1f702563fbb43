import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32 } from '../views.js';

export function rmsNorm(
  [x, weight]: readonly Tensor[],
  [y]: readonly Tensor[],
  { rows, dim, eps }: OpParams['rmsNorm'],
): void {
  const xs = f32(x as Tensor);
  const ws = f32(weight as Tensor);
  const ys = f32(y as Tensor);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sumSquares = 0;
    for (let i = 0; i < dim; i++) sumSquares += (xs[base + i] as number) ** 2;
    const inverse = 1 / Math.sqrt(sumSquares / dim + eps);
    for (let i = 0; i < dim; i++) ys[base + i] = (xs[base + i] as number) * inverse * (ws[i] as number);
  }
}
