import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32 } from '../views.js';

export function swiglu([a, b]: readonly Tensor[], [y]: readonly Tensor[], { size }: OpParams['swiglu']): void {
  const as = f32(a as Tensor);
  const bs = f32(b as Tensor);
  const ys = f32(y as Tensor);
  for (let i = 0; i < size; i++) {
    const z = as[i] as number;
    ys[i] = (z / (1 + Math.exp(-z))) * (bs[i] as number);
  }
}

export function add([a, b]: readonly Tensor[], [y]: readonly Tensor[], { size }: OpParams['add']): void {
  const as = f32(a as Tensor);
  const bs = f32(b as Tensor);
  const ys = f32(y as Tensor);
  for (let i = 0; i < size; i++) ys[i] = (as[i] as number) + (bs[i] as number);
}
