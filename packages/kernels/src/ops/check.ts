import type { Backend } from '../backend.js';
import type { DType } from '../dtype.js';
import { KernelError } from '../errors.js';
import type { Tensor } from '../tensor.js';

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Checks rank and dtype; returns the shape. `expected` names the dims, e.g. ['M', 'K']. */
export function expectTensor(
  op: string,
  argument: string,
  tensor: Tensor,
  dims: readonly string[],
  dtypes: readonly DType[],
): readonly number[] {
  if (tensor.disposed) throw new KernelError(`${op}: ${argument} has been disposed`);
  if (tensor.shape.length !== dims.length) {
    throw new KernelError(`${op}: ${argument} must have shape [${dims.join(', ')}], got ${fmt(tensor.shape)}`);
  }
  if (!dtypes.includes(tensor.dtype)) {
    throw new KernelError(`${op}: ${argument} must be ${dtypes.join(' or ')}, got ${tensor.dtype}`);
  }
  return tensor.shape;
}

export function expectEqual(op: string, what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new KernelError(`${op}: ${what} is ${actual}, expected ${expected}`);
}

export function expectSameBackend(op: string, tensors: readonly Tensor[]): Backend {
  const backend = (tensors[0] as Tensor).backend;
  for (const t of tensors) {
    if (t.backend !== backend) throw new KernelError(`${op}: all tensors must live on the same backend`);
  }
  return backend;
}

export function expectInteger(op: string, name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new KernelError(`${op}: ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}
