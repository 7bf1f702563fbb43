import type { OpInputs, OpName, OpOutputs, OpParams } from '../op-contract.js';
import type { Tensor } from '../tensor.js';
import type { KernelExport } from './module.js';

/** What an op's wasm twin (src/ops/<op>/wasm.ts) gets from the backend to run its kernels. */
export interface WasmOpContext {
  /** Byte address of a tensor's storage in the backend's memory. */
  ptr(tensor: Tensor): number;
  /**
   * Runs `kernel(tid, nthreads, ...args)` on as many threads as `work` justifies (about the number
   * of elements read or written: small ops stay on the calling thread), and waits for it. The
   * kernel's `tid, nthreads` are parts of the work, not threads: `parts` of them (default: the
   * threads used), each run once by whichever thread claims it. A kernel whose scratch is
   * per-thread (threadScratch) must keep the default; one without may ask for more parts, so that a
   * thread the OS holds up delays the op by one small part at most.
   */
  run(kernel: KernelExport, args: readonly number[], work: number, parts?: number): void;
  /** Runs `kernel` on the calling thread alone (a pass that is not split, e.g. a final sum). */
  runSingle(kernel: KernelExport, args: readonly number[]): void;
  /** A scratch region of `bytes` bytes for this dispatch, freed when the dispatch returns. */
  scratch(bytes: number): number;
  /**
   * One scratch region per thread (thread tid's at ptr + tid · stride, stride = bytesPerThread
   * rounded up to 64), for kernels taking `(scratch, scratchStride)`; freed when the dispatch returns.
   */
  threadScratch(bytesPerThread: number): [ptr: number, stride: number];
  /** Threads in the pool (the most any call runs on). */
  readonly threads: number;
}

/**
 * The WebAssembly twin of an op (src/ops/<op>/wasm.ts): computes its kernels' arguments from the
 * op's named tensors and parameters, and runs them.
 */
export type WasmKernel<Name extends OpName> = (
  ctx: WasmOpContext,
  inputs: OpInputs[Name],
  outputs: OpOutputs[Name],
  params: OpParams[Name],
) => void;

/**
 * The weight kind argument of the matmul-family kernels: 0 f32, 1 f16, 2 q8_0, and the 4-6-bit
 * block formats 4-8 (kernels/blocks.as.ts; 3 is matvecSwiglu's q8_0 against int8 activations).
 */
export const WEIGHT_DTYPE_CODE = { f32: 0, f16: 1, q8_0: 2, q4_0: 4, q4_1: 5, q4_k: 6, q5_k: 7, q6_k: 8 } as const;
