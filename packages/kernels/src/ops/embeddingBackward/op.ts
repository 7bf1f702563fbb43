import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { type AccumulateOptions, expectEqual, expectSameBackend, expectTensor, gradientTarget } from '../check.js';

/**
 * The backward of embedding: dTable [V, D] (+)= the rows of dY [T, D] summed by token id (ids i32 [T];
 * ids outside 0..V-1 contribute nothing). On WebGPU this costs O(V·D·T): meant for small vocabularies.
 */
export function embeddingBackward(ids: Tensor, dY: Tensor, vocab: number, options: AccumulateOptions = {}): Tensor {
  const backend = expectSameBackend('embeddingBackward', [ids, dY]);
  const [tokens] = expectTensor('embeddingBackward', 'ids', ids, ['T'], ['i32']) as [number];
  const [dTokens, dim] = expectTensor('embeddingBackward', 'dY', dY, ['T', 'D'], ['f32']) as [number, number];
  expectEqual('embeddingBackward', 'dY.shape[0] (T)', dTokens, tokens);
  if (!Number.isInteger(vocab) || vocab < 0) {
    throw new KernelError(`embeddingBackward: vocab must be a non-negative integer, got ${vocab}`);
  }
  const dTable = gradientTarget('embeddingBackward', options.into, [vocab, dim], backend);
  backend.dispatch(
    'embeddingBackward',
    { ids, dY },
    { dTable },
    {
      tokens,
      vocab,
      dim,
      accumulate: options.into !== undefined,
    },
  );
  return dTable;
}
