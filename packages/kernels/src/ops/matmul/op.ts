import { blockElements, WEIGHT_DTYPES, type WeightDType } from '../../dtype.js';
import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { expectEqual, expectSameBackend, expectTensor } from '../check.js';

function checkWeight(op: string, name: string, w: Tensor, K: number): number {
  const [N, wK] = expectTensor(op, name, w, ['N', 'K'], WEIGHT_DTYPES) as [number, number];
  expectEqual(op, `${name}.shape[1] (K)`, wK, K);
  const block = blockElements(w.dtype);
  if (K % block !== 0) {
    throw new KernelError(`${op}: a ${w.dtype} weight needs K to be a multiple of ${block}, got ${K}`);
  }
  return N;
}

/** y = x · wᵀ for x [M, K] and a weight in PyTorch's [out, in] layout w [N, K]: y is [M, N]. */
export function matmul(x: Tensor, w: Tensor): Tensor {
  const backend = expectSameBackend('matmul', [x, w]);
  const [M, K] = expectTensor('matmul', 'x', x, ['M', 'K'], ['f32']) as [number, number];
  const N = checkWeight('matmul', 'w', w, K);
  const y = backend.allocate('f32', [M, N]);
  backend.dispatch('matmul', { x, w }, { y }, { M, N, K, weightDType: w.dtype as WeightDType });
  return y;
}

/**
 * Llama's feed-forward gate in one op: silu(x · w1ᵀ) ⊙ (x · w3ᵀ), for w1 and w3 [N, K] of the same
 * dtype. Same result as swiglu(matmul(x, w1), matmul(x, w3)), one pass and no intermediates.
 */
export function matmulSwiglu(x: Tensor, w1: Tensor, w3: Tensor): Tensor {
  const backend = expectSameBackend('matmulSwiglu', [x, w1, w3]);
  const [M, K] = expectTensor('matmulSwiglu', 'x', x, ['M', 'K'], ['f32']) as [number, number];
  const N = checkWeight('matmulSwiglu', 'w1', w1, K);
  expectEqual('matmulSwiglu', 'w3.shape[0] (N)', checkWeight('matmulSwiglu', 'w3', w3, K), N);
  if (w3.dtype !== w1.dtype)
    throw new KernelError(`matmulSwiglu: w1 is ${w1.dtype} but w3 is ${w3.dtype}; they must match`);
  const y = backend.allocate('f32', [M, N]);
  backend.dispatch('matmulSwiglu', { x, w1, w3 }, { y }, { M, N, K, weightDType: w1.dtype as WeightDType });
  return y;
}
