import type { Tensor } from '../../tensor.js';
import { expectSameBackend, expectSameShape } from '../check.js';

/** The backward of swiglu(a, b) = silu(a) · b: dA = dY · b · silu'(a), dB = dY · silu(a). */
export function swigluBackward(a: Tensor, b: Tensor, dY: Tensor): { dA: Tensor; dB: Tensor } {
  const backend = expectSameBackend('swigluBackward', [a, b, dY]);
  expectSameShape('swigluBackward', [
    ['a', a],
    ['b', b],
    ['dY', dY],
  ]);
  const dA = backend.allocate('f32', a.shape);
  const dB = backend.allocate('f32', a.shape);
  backend.dispatch('swigluBackward', { a, b, dY }, { dA, dB }, { size: a.size });
  return { dA, dB };
}
