import type { WeightDType } from '../dtype.js';
import { KernelError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { expectEqual, expectSameBackend, expectTensor } from './check.js';

const WEIGHT_DTYPES = ['f32', 'f16', 'q8_0'] as const;

/** y = x · wᵀ for x [M, K] and a weight in PyTorch's [out, in] layout w [N, K]: y is [M, N]. */
export function matmul(x: Tensor, w: Tensor): Tensor {
  const backend = expectSameBackend('matmul', [x, w]);
  const [M, K] = expectTensor('matmul', 'x', x, ['M', 'K'], ['f32']) as [number, number];
  const [N, wK] = expectTensor('matmul', 'w', w, ['N', 'K'], WEIGHT_DTYPES) as [number, number];
  expectEqual('matmul', 'w.shape[1] (K)', wK, K);
  if (w.dtype === 'q8_0' && K % 32 !== 0) {
    throw new KernelError(`matmul: a q8_0 weight needs K to be a multiple of 32, got ${K}`);
  }
  const y = backend.allocate('f32', [M, N]);
  backend.dispatch('matmul', [x, w], [y], { M, N, K, weightDType: w.dtype as WeightDType });
  return y;
}
