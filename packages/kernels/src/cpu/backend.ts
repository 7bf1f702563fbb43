import type { Backend } from '../backend.js';
import { byteSize, type DType, numElements } from '../dtype.js';
import { KernelError } from '../errors.js';
import type { OpInputs, OpName, OpOutputs, OpParams } from '../op-contract.js';
import { OPS } from '../registry.js';
import { Tensor } from '../tensor.js';
import { bytesOf } from './views.js';

/**
 * The readable reference backend, and the fallback where there is no WebGPU adapter: plain
 * Float32Array loops, run synchronously at dispatch.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly description = 'CPU backend (plain TypeScript, one thread)';

  allocate(dtype: DType, shape: readonly number[]): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new KernelError(`allocate: invalid shape [${shape.join(', ')}]`);
    }
    return new Tensor(this, dtype, shape, new Uint8Array(byteSize(dtype, numElements(shape))));
  }

  write(tensor: Tensor, bytes: Uint8Array): void {
    const storage = bytesOf(tensor);
    if (bytes.byteLength !== storage.byteLength) {
      throw new KernelError(`write: ${tensor} takes ${storage.byteLength} bytes, got ${bytes.byteLength}`);
    }
    storage.set(bytes);
  }

  async read(tensor: Tensor): Promise<Uint8Array> {
    return bytesOf(tensor).slice();
  }

  dispatch<Name extends OpName>(
    op: Name,
    inputs: OpInputs[Name],
    outputs: OpOutputs[Name],
    params: OpParams[Name],
  ): void {
    OPS[op].cpu(inputs, outputs, params);
  }

  view(tensor: Tensor, shape: readonly number[]): Tensor {
    return new Tensor(this, tensor.dtype, shape, tensor.storage, tensor.base ?? tensor);
  }

  release(_tensor: Tensor): void {
    // The garbage collector frees the storage once the Tensor is unreachable.
  }

  async synchronize(): Promise<void> {}

  destroy(): void {}
}
