import type { Backend } from './backend.js';
import { type DType, decodeFrom, numElements } from './dtype.js';

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
  ) {
    this.size = numElements(shape);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** The values as f32 (f16 and q8_0 are dequantised, i32 converted), once recorded work has run. */
  async toFloat32(): Promise<Float32Array> {
    return decodeFrom(this.dtype, await this.backend.read(this), this.size);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.backend.release(this);
  }

  toString(): string {
    return `Tensor(${this.dtype}[${this.shape.join(', ')}] on ${this.backend.kind})`;
  }
}
