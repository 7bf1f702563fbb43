import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { expectSameBackend, expectSameSize, expectTensor } from '../check.js';

/** Elements per partial sum of sumSquares' first pass, and the most partials it makes. */
const SUM_SQUARES_CHUNK = 4096;
const SUM_SQUARES_MAX_PARTIALS = 1024;

/**
 * Σ x² over all of x, as an f32 [1] tensor. With `into` (an f32 [1]), adds to it and returns it:
 * one tensor collects the squared norm of every gradient, read back once per step for clipping.
 */
export function sumSquares(x: Tensor, options: { into?: Tensor } = {}): Tensor {
  const backend = expectSameBackend('sumSquares', options.into ? [x, options.into] : [x]);
  expectSameSize('sumSquares', [['x', x]]);
  if (options.into) {
    expectTensor('sumSquares', 'into', options.into, ['1'], ['f32']);
    if (options.into.size !== 1)
      throw new KernelError(`sumSquares: into must have shape [1], got [${options.into.shape}]`);
  }
  const out = options.into ?? backend.allocate('f32', [1]);
  const partials = Math.min(SUM_SQUARES_MAX_PARTIALS, Math.max(1, Math.ceil(x.size / SUM_SQUARES_CHUNK)));
  const scratch = backend.allocate('f32', [partials]);
  backend.dispatch(
    'sumSquares',
    { x },
    { out, partials: scratch },
    {
      size: x.size,
      partials,
      accumulate: options.into !== undefined,
    },
  );
  scratch.dispose();
  return out;
}
