import type { Tensor } from '../../tensor.js';
import { elementwiseOutput } from '../check.js';

/** a + b, elementwise (same shape, f32): the residual connection. */
export function add(a: Tensor, b: Tensor): Tensor {
  const y = elementwiseOutput('add', a, b);
  y.backend.dispatch('add', { a, b }, { y }, { size: a.size });
  return y;
}
