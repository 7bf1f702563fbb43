import type { Tensor } from '../tensor.js';
import { expectEqual, expectSameBackend, expectTensor } from './check.js';

/** Softmax over the last axis of x [R, N]. */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = expectTensor('softmax', 'x', x, ['R', 'N'], ['f32']) as [number, number];
  const y = x.backend.allocate('f32', [rows, cols]);
  x.backend.dispatch('softmax', [x], [y], { rows, cols });
  return y;
}

/** Per row r, log softmax(x[r])[ids[r]]: the log-probability of a chosen token; 0 where ids[r] < 0. */
export function logSoftmaxGather(x: Tensor, ids: Tensor): Tensor {
  const backend = expectSameBackend('logSoftmaxGather', [x, ids]);
  const [rows, cols] = expectTensor('logSoftmaxGather', 'x', x, ['R', 'N'], ['f32']) as [number, number];
  const [idRows] = expectTensor('logSoftmaxGather', 'ids', ids, ['R'], ['i32']) as [number];
  expectEqual('logSoftmaxGather', 'ids.shape[0] (R)', idRows, rows);
  const y = backend.allocate('f32', [rows]);
  backend.dispatch('logSoftmaxGather', [x, ids], [y], { rows, cols });
  return y;
}

/** Index of the first maximum of each row of x [R, N], as i32 [R]. */
export function argmax(x: Tensor): Tensor {
  const [rows, cols] = expectTensor('argmax', 'x', x, ['R', 'N'], ['f32']) as [number, number];
  const y = x.backend.allocate('i32', [rows]);
  x.backend.dispatch('argmax', [x], [y], { rows, cols });
  return y;
}
