import type { Tensor } from '../../tensor.js';
import { type AccumulateOptions, expectEqual, expectSameBackend, expectTensor, gradientTarget } from '../check.js';

/** dX [M, K] = dY [M, N] · W [N, K]: the input gradient of y = x · wᵀ. */
export function matmulGradInput(dY: Tensor, w: Tensor): Tensor {
  const backend = expectSameBackend('matmulGradInput', [dY, w]);
  const [M, N] = expectTensor('matmulGradInput', 'dY', dY, ['M', 'N'], ['f32']) as [number, number];
  const [wN, K] = expectTensor('matmulGradInput', 'w', w, ['N', 'K'], ['f32']) as [number, number];
  expectEqual('matmulGradInput', 'w.shape[0] (N)', wN, N);
  const dX = backend.allocate('f32', [M, K]);
  backend.dispatch('matmulGradInput', { dY, w }, { dX }, { M, N, K });
  return dX;
}

/** dW [N, K] (+)= dYᵀ · X for dY [M, N], x [M, K]: the weight gradient of y = x · wᵀ. */
export function matmulGradWeight(dY: Tensor, x: Tensor, options: AccumulateOptions = {}): Tensor {
  const backend = expectSameBackend('matmulGradWeight', [dY, x]);
  const [M, N] = expectTensor('matmulGradWeight', 'dY', dY, ['M', 'N'], ['f32']) as [number, number];
  const [xM, K] = expectTensor('matmulGradWeight', 'x', x, ['M', 'K'], ['f32']) as [number, number];
  expectEqual('matmulGradWeight', 'x.shape[0] (M)', xM, M);
  const dW = gradientTarget('matmulGradWeight', options.into, [N, K], backend);
  backend.dispatch('matmulGradWeight', { dY, x }, { dW }, { M, N, K, accumulate: options.into !== undefined });
  return dW;
}
