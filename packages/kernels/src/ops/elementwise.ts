import { KernelError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { expectSameBackend, expectTensor } from './check.js';

function sameShape(op: string, a: Tensor, b: Tensor): void {
  expectTensor(
    op,
    'a',
    a,
    a.shape.map((_, i) => `d${i}`),
    ['f32'],
  );
  expectTensor(
    op,
    'b',
    b,
    a.shape.map((_, i) => `d${i}`),
    ['f32'],
  );
  if (a.shape.some((d, i) => d !== b.shape[i])) {
    throw new KernelError(`${op}: a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] must have the same shape`);
  }
}

/** silu(a) * b, the gate of Llama's feed-forward. */
export function swiglu(a: Tensor, b: Tensor): Tensor {
  const backend = expectSameBackend('swiglu', [a, b]);
  sameShape('swiglu', a, b);
  const y = backend.allocate('f32', a.shape);
  backend.dispatch('swiglu', [a, b], [y], { size: a.size });
  return y;
}

export function add(a: Tensor, b: Tensor): Tensor {
  const backend = expectSameBackend('add', [a, b]);
  sameShape('add', a, b);
  const y = backend.allocate('f32', a.shape);
  backend.dispatch('add', [a, b], [y], { size: a.size });
  return y;
}
