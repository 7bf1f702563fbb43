import type { Backend } from './backend.js';
import { type DType, decodeFrom, numElements } from './dtype.js';
import { KernelError } from './errors.js';

/**
 * A handle to storage on one backend: shape, dtype and the backend's own storage object.
 * Created by `Backend.allocate` (or the helpers in `ops/`), freed by `dispose()`.
 */
export class Tensor {
  readonly size: number;
  #disposed = false;

  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly shape: readonly number[],
    /** Owned by the backend: a Uint8Array on the CPU, GPUBuffer chunks on WebGPU. */
    readonly storage: unknown,
    /** A view (see `reshape`) shares its base's storage and leaves freeing it to the base. */
    readonly base?: Tensor,
  ) {
    this.size = numElements(shape);
  }

  /** The same storage under another shape with as many elements (no copy). */
  reshape(shape: readonly number[]): Tensor {
    if (numElements(shape) !== this.size) {
      throw new KernelError(
        `reshape: ${this} has ${this.size} elements, [${shape.join(', ')}] has ${numElements(shape)}`,
      );
    }
    return this.backend.view(this, shape);
  }

  get disposed(): boolean {
    return this.#disposed || (this.base?.disposed ?? false);
  }

  /** The values as f32 (f16 and q8_0 are dequantised, i32 converted), once recorded work has run. */
  async toFloat32(): Promise<Float32Array> {
    return decodeFrom(this.dtype, await this.backend.read(this), this.size);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (!this.base) this.backend.release(this);
  }

  toString(): string {
    return `Tensor(${this.dtype}[${this.shape.join(', ')}] on ${this.backend.kind})`;
  }
}
