import type { WeightDType } from '../../dtype.js';
import type { Tensor } from '../../tensor.js';
import { expectSameBackend, expectTensor } from '../check.js';

/** Rows of `table` [V, D] for token ids [T] (i32): [T, D] f32. */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  const backend = expectSameBackend('embedding', [table, ids]);
  const [vocab, dim] = expectTensor('embedding', 'table', table, ['V', 'D'], ['f32', 'f16', 'q8_0']) as [
    number,
    number,
  ];
  const [tokens] = expectTensor('embedding', 'ids', ids, ['T'], ['i32']) as [number];
  const y = backend.allocate('f32', [tokens, dim]);
  backend.dispatch('embedding', { table, ids }, { y }, { tokens, vocab, dim, tableDType: table.dtype as WeightDType });
  return y;
}
