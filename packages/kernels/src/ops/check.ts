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

/** Checks that `tensors` are f32 with `first`'s shape (elementwise ops). */
export function expectSameShape(op: string, tensors: readonly (readonly [string, Tensor])[]): void {
  const [firstName, first] = tensors[0] as readonly [string, Tensor];
  for (const [name, t] of tensors) {
    expectTensor(
      op,
      name,
      t,
      first.shape.map((_, i) => `d${i}`),
      ['f32'],
    );
    if (t.shape.some((d, i) => d !== first.shape[i])) {
      throw new KernelError(
        `${op}: ${name} [${t.shape.join(', ')}] must have ${firstName}'s shape [${first.shape.join(', ')}]`,
      );
    }
  }
}

/** Checks that `tensors` are f32 with as many elements as the first; returns that number. */
export function expectSameSize(op: string, tensors: readonly (readonly [string, Tensor])[]): number {
  const size = (tensors[0] as readonly [string, Tensor])[1].size;
  for (const [name, t] of tensors) {
    expectTensor(
      op,
      name,
      t,
      t.shape.map((_, i) => `d${i}`),
      ['f32'],
    );
    if (t.size !== size) throw new KernelError(`${op}: ${name} has ${t.size} elements, expected ${size}`);
  }
  return size;
}

export interface AccumulateOptions {
  /** Add the gradient into this tensor (same shape) and return it, instead of allocating a new one. */
  into?: Tensor;
}

/** The output of a gradient: `into` (checked against `shape`) when accumulating, else a new f32 tensor. */
export function gradientTarget(
  op: string,
  into: Tensor | undefined,
  shape: readonly number[],
  backend: Backend,
): Tensor {
  if (!into) return backend.allocate('f32', shape);
  if (into.backend !== backend) throw new KernelError(`${op}: all tensors must live on the same backend`);
  expectTensor(
    op,
    'into',
    into,
    shape.map((d) => String(d)),
    ['f32'],
  );
  if (into.shape.some((d, i) => d !== shape[i])) {
    throw new KernelError(`${op}: into has shape [${into.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return into;
}

/**
 * The operands of an elementwise op of two inputs (add, swiglu, ...): same backend, f32, same
 * shape. Returns a new f32 output of that shape.
 */
export function elementwiseOutput(op: string, a: Tensor, b: Tensor): Tensor {
  const backend = expectSameBackend(op, [a, b]);
  for (const [name, t] of [
    ['a', a],
    ['b', b],
  ] as const) {
    expectTensor(
      op,
      name,
      t,
      a.shape.map((_, i) => `d${i}`),
      ['f32'],
    );
  }
  if (a.shape.some((d, i) => d !== b.shape[i])) {
    throw new KernelError(`${op}: a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] must have the same shape`);
  }
  return backend.allocate('f32', a.shape);
}

/** Checks that positions startPos..startPos+tokens-1 and slots slot..slot+batch-1 fit a KV cache. */
export function expectCacheWindow(
  op: string,
  startPos: number,
  tokens: number,
  maxSeqLen: number,
  slot: number,
  batch: number,
  slots: number,
): void {
  expectInteger(op, 'startPos', startPos, 0);
  if (startPos + tokens > maxSeqLen) {
    throw new KernelError(
      `${op}: positions ${startPos}..${startPos + tokens - 1} do not fit a cache of ${maxSeqLen} positions`,
    );
  }
  expectInteger(op, 'slot', slot, 0);
  if (slot + batch > slots) {
    throw new KernelError(`${op}: slots ${slot}..${slot + batch - 1} do not fit a cache of ${slots} slots`);
  }
}
