import type { Tensor } from '../../tensor.js';
import { expectEqual, expectSameBackend, expectTensor } from '../check.js';

/** Per row r, log softmax(x[r])[ids[r]]: the log-probability of a chosen token; 0 where ids[r] < 0. */
export function logSoftmaxGather(x: Tensor, ids: Tensor): Tensor {
  const backend = expectSameBackend('logSoftmaxGather', [x, ids]);
  const [rows, cols] = expectTensor('logSoftmaxGather', 'x', x, ['R', 'N'], ['f32']) as [number, number];
  const [idRows] = expectTensor('logSoftmaxGather', 'ids', ids, ['R'], ['i32']) as [number];
  expectEqual('logSoftmaxGather', 'ids.shape[0] (R)', idRows, rows);
  const y = backend.allocate('f32', [rows]);
  backend.dispatch('logSoftmaxGather', { x, ids }, { y }, { rows, cols });
  return y;
}
