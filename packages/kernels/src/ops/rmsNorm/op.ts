import type { Tensor } from '../../tensor.js';
import { expectEqual, expectSameBackend, expectTensor } from '../check.js';

/** RMSNorm over the last axis of x [R, D] with weight [D]. */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const backend = expectSameBackend('rmsNorm', [x, weight]);
  const [rows, dim] = expectTensor('rmsNorm', 'x', x, ['R', 'D'], ['f32']) as [number, number];
  const [wDim] = expectTensor('rmsNorm', 'weight', weight, ['D'], ['f32']) as [number];
  expectEqual('rmsNorm', 'weight.shape[0] (D)', wDim, dim);
  const y = backend.allocate('f32', [rows, dim]);
  backend.dispatch('rmsNorm', { x, weight }, { y }, { rows, dim, eps });
  return y;
}
