import { blockElements, WEIGHT_DTYPES, type WeightDType } from '../../dtype.js';
import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { expectSameBackend, expectTensor } from '../check.js';

/** Rows of `table` [V, D] for token ids [T] (i32): [T, D] f32. */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  const backend = expectSameBackend('embedding', [table, ids]);
  const [vocab, dim] = expectTensor('embedding', 'table', table, ['V', 'D'], WEIGHT_DTYPES) as [number, number];
  const block = blockElements(table.dtype);
  if (dim % block !== 0) {
    throw new KernelError(`embedding: a ${table.dtype} table needs D to be a multiple of ${block}, got ${dim}`);
  }
  const [tokens] = expectTensor('embedding', 'ids', ids, ['T'], ['i32']) as [number];
  const y = backend.allocate('f32', [tokens, dim]);
  backend.dispatch('embedding', { table, ids }, { y }, { tokens, vocab, dim, tableDType: table.dtype as WeightDType });
  return y;
}
