import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { expectEqual, expectSameBackend, expectTensor } from '../check.js';

/**
 * Softmax cross-entropy of logits [R, V] against targets i32 [R], with its gradient: loss [R]
 * (-log softmax[target]) and dLogits [R, V] = (softmax - onehot(target)) · scale. Rows whose target
 * is negative (padding) or ≥ V get loss 0 and zero gradient. `scale` defaults to 1 / R; pass
 * 1 / (number of counted rows) for the gradient of the mean loss over the counted rows.
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: { scale?: number } = {},
): { loss: Tensor; dLogits: Tensor } {
  const backend = expectSameBackend('crossEntropy', [logits, targets]);
  const [rows, cols] = expectTensor('crossEntropy', 'logits', logits, ['R', 'V'], ['f32']) as [number, number];
  const [targetRows] = expectTensor('crossEntropy', 'targets', targets, ['R'], ['i32']) as [number];
  expectEqual('crossEntropy', 'targets.shape[0] (R)', targetRows, rows);
  const scale = options.scale ?? 1 / Math.max(1, rows);
  if (!Number.isFinite(scale)) throw new KernelError(`crossEntropy: scale must be finite, got ${scale}`);
  const loss = backend.allocate('f32', [rows]);
  const dLogits = backend.allocate('f32', [rows, cols]);
  backend.dispatch('crossEntropy', { logits, targets }, { loss, dLogits }, { rows, cols, scale });
  return { loss, dLogits };
}
