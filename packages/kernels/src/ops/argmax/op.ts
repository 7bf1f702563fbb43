import type { Tensor } from '../../tensor.js';
import { expectTensor } from '../check.js';

/** Index of the first maximum of each row of x [R, N], as i32 [R]. */
export function argmax(x: Tensor): Tensor {
  const [rows, cols] = expectTensor('argmax', 'x', x, ['R', 'N'], ['f32']) as [number, number];
  const y = x.backend.allocate('i32', [rows]);
  x.backend.dispatch('argmax', { x }, { y }, { rows, cols });
  return y;
}
