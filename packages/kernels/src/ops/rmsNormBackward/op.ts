import type { Tensor } from '../../tensor.js';
import { type AccumulateOptions, expectEqual, expectSameBackend, expectTensor, gradientTarget } from '../check.js';

/** The backward of rmsNorm(x [R, D], weight [D], eps): dX [R, D] and dWeight [D] (summed over rows). */
export function rmsNormBackward(
  x: Tensor,
  weight: Tensor,
  dY: Tensor,
  eps: number,
  options: AccumulateOptions = {},
): { dX: Tensor; dWeight: Tensor } {
  const backend = expectSameBackend('rmsNormBackward', [x, weight, dY]);
  const [rows, dim] = expectTensor('rmsNormBackward', 'x', x, ['R', 'D'], ['f32']) as [number, number];
  const [wDim] = expectTensor('rmsNormBackward', 'weight', weight, ['D'], ['f32']) as [number];
  expectEqual('rmsNormBackward', 'weight.shape[0] (D)', wDim, dim);
  const [dRows, dDim] = expectTensor('rmsNormBackward', 'dY', dY, ['R', 'D'], ['f32']) as [number, number];
  expectEqual('rmsNormBackward', 'dY.shape[0] (R)', dRows, rows);
  expectEqual('rmsNormBackward', 'dY.shape[1] (D)', dDim, dim);
  const dX = backend.allocate('f32', [rows, dim]);
  const dWeight = gradientTarget('rmsNormBackward', options.into, [dim], backend);
  const rstd = backend.allocate('f32', [rows]);
  backend.dispatch(
    'rmsNormBackward',
    { x, weight, dY },
    { dX, dWeight, rstd },
    {
      rows,
      dim,
      eps,
      accumulate: options.into !== undefined,
    },
  );
  rstd.dispose();
  return { dX, dWeight };
}
