import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32, i32 } from '../views.js';

function rowMax(xs: Float32Array, base: number, cols: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < cols; c++) if ((xs[base + c] as number) > max) max = xs[base + c] as number;
  return max;
}

export function softmax([x]: readonly Tensor[], [y]: readonly Tensor[], { rows, cols }: OpParams['softmax']): void {
  const xs = f32(x as Tensor);
  const ys = f32(y as Tensor);
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
}

export function logSoftmaxGather(
  [x, ids]: readonly Tensor[],
  [y]: readonly Tensor[],
  { rows, cols }: OpParams['logSoftmaxGather'],
): void {
  const xs = f32(x as Tensor);
  const chosen = i32(ids as Tensor);
  const ys = f32(y as Tensor);
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
}

export function argmax([x]: readonly Tensor[], [y]: readonly Tensor[], { rows, cols }: OpParams['argmax']): void {
  const xs = f32(x as Tensor);
  const ys = i32(y as Tensor);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let best = 0;
    for (let c = 1; c < cols; c++) if ((xs[base + c] as number) > (xs[base + best] as number)) best = c;
    ys[r] = best;
  }
}
