import type { Tensor } from '../../tensor.js';
import { elementwiseOutput } from '../check.js';

/** silu(a) * b, the gate of Llama's feed-forward. */
export function swiglu(a: Tensor, b: Tensor): Tensor {
  const y = elementwiseOutput('swiglu', a, b);
  y.backend.dispatch('swiglu', { a, b }, { y }, { size: a.size });
  return y;
}
