import type { Backend } from './backend.js';
import { bf16ToF32, blockElements, byteSize, type DType, encodeAs, numElements, type WeightDType } from './dtype.js';
import { KernelError } from './errors.js';
import type { Tensor } from './tensor.js';

/** A tensor holding `values` (converted or quantised to `dtype`). */
export function fromArray(
  backend: Backend,
  values: Float32Array | Int32Array | readonly number[],
  shape: readonly number[],
  dtype: DType = 'f32',
): Tensor {
  const size = numElements(shape);
  if (values.length !== size) {
    throw new KernelError(
      `fromArray: ${values.length} values do not fill shape [${shape.join(', ')}] (${size} elements)`,
    );
  }
  const block = blockElements(dtype);
  if ((shape.at(-1) ?? 0) % block !== 0) {
    throw new KernelError(
      `fromArray: ${dtype} needs a last dimension that is a multiple of ${block}, got [${shape.join(', ')}]`,
    );
  }
  if (dtype === 'i32') {
    // Straight to Int32Array: going through f32 would round ids above 2^24.
    const ints = values instanceof Int32Array ? values : Int32Array.from(values);
    for (let i = 0; i < values.length; i++) {
      if (ints[i] !== values[i])
        throw new KernelError(`fromArray: i32 value ${values[i]} at index ${i} is not a 32-bit integer`);
    }
    return fromBytes(backend, new Uint8Array(ints.buffer, ints.byteOffset, ints.byteLength), shape, dtype);
  }
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  return fromBytes(backend, encodeAs(dtype, f32), shape, dtype);
}

/** A tensor from storage bytes already in `dtype`'s layout (see dtype.ts). */
export function fromBytes(backend: Backend, bytes: Uint8Array, shape: readonly number[], dtype: DType): Tensor {
  const expected = byteSize(dtype, numElements(shape));
  if (bytes.byteLength !== expected) {
    throw new KernelError(`fromBytes: ${dtype}[${shape.join(', ')}] takes ${expected} bytes, got ${bytes.byteLength}`);
  }
  const tensor = backend.allocate(dtype, shape);
  backend.write(tensor, bytes);
  return tensor;
}

export function zeros(backend: Backend, shape: readonly number[], dtype: DType = 'f32'): Tensor {
  return backend.allocate(dtype, shape, { zeroed: true });
}

/** A tensor from bfloat16 bits (as in bf16 checkpoints), converted on upload to a weight of any weight dtype (quantised for the block formats). */
export function fromBFloat16(
  backend: Backend,
  bits: Uint16Array,
  shape: readonly number[],
  dtype: WeightDType = 'f32',
): Tensor {
  return fromArray(backend, bf16ToF32(bits), shape, dtype);
}
