import type { DType } from './dtype.js';
import type { OpInputs, OpName, OpOutputs, OpParams } from './op-contract.js';
import type { Tensor } from './tensor.js';

export type BackendKind = 'cpu' | 'webgpu' | 'wasm';

/**
 * The whole contract between the ops and a device: allocate, write, read, dispatch, release.
 * Ops validate shapes and compute parameters above this line; backends only run kernels.
 *
 * Work is recorded in order. On WebGPU, dispatches go into one command encoder that is submitted
 * when something is read (or on `synchronize`), so a forward pass is a handful of submits.
 */
export interface Backend {
  readonly kind: BackendKind;
  /** One line naming the device, for logs. */
  readonly description: string;
  /**
   * The most bytes of tensors this backend can hold at once, where it has a fixed limit (wasm: one
   * wasm32 memory, 4 GiB less its static area), so that a loader can refuse a model that cannot fit
   * before loading anything; undefined where there is none (or it is not known up front).
   */
  readonly capacityBytes?: number;
  /**
   * A new tensor. Its contents are unspecified unless `zeroed` is true: op outputs skip the fill
   * because their kernels write every element.
   */
  allocate(dtype: DType, shape: readonly number[], options?: { zeroed?: boolean }): Tensor;
  /** Replaces a tensor's storage bytes (laid out as `dtype.ts` describes, `byteSize` long). */
  write(tensor: Tensor, bytes: Uint8Array): void;
  /** The tensor's storage bytes, after all recorded work has run. */
  read(tensor: Tensor): Promise<Uint8Array>;
  /** Records one op (see `op-contract.ts` for each op's named inputs, outputs and parameters). */
  dispatch<Name extends OpName>(
    op: Name,
    inputs: OpInputs[Name],
    outputs: OpOutputs[Name],
    params: OpParams[Name],
  ): void;
  /** A tensor sharing `tensor`'s storage under another shape of the same size (`Tensor.reshape`). */
  view(tensor: Tensor, shape: readonly number[]): Tensor;
  /** Frees a tensor's storage (called by `Tensor.dispose`). */
  release(tensor: Tensor): void;
  /** Resolves when all recorded work has run. */
  synchronize(): Promise<void>;
  /** Frees the device; tensors of this backend are invalid afterwards. */
  destroy(): void;
}
