import type { Tensor } from '../../tensor.js';
import { expectTensor } from '../check.js';

/** Softmax over the last axis of x [R, N]. */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = expectTensor('softmax', 'x', x, ['R', 'N'], ['f32']) as [number, number];
  const y = x.backend.allocate('f32', [rows, cols]);
  x.backend.dispatch('softmax', { x }, { y }, { rows, cols });
  return y;
}
