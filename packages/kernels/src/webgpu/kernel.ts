import { KernelError } from '../errors.js';
import type { OpInputs, OpName, OpOutputs, OpParams } from '../op-contract.js';
import type { Tensor } from '../tensor.js';
import type { GpuChunk, GpuStorage } from './storage.js';

/** What a kernel may know about the device when it writes its shader and picks its geometry. */
export interface KernelContext {
  /** `shader-f16` is enabled: the shader may `enable f16;`. Every kernel also works without it. */
  shaderF16: boolean;
  /** `subgroups` is enabled and subgroups have at least 8 lanes. Every kernel also works without it. */
  subgroups: boolean;
  maxWorkgroupsPerDimension: number;
  maxWorkgroupStorageSize: number;
  maxInvocationsPerWorkgroup: number;
  /**
   * A scratch buffer of at least `byteLength` bytes for intermediates passed between the
   * dispatches of one op; it returns to the pool once the op is recorded (queue order keeps a
   * later reuse after this op's reads).
   */
  scratch(byteLength: number): GPUBufferBinding;
}

/** A uniform field: the shader's `Params` struct declares the same fields, in order, all 32-bit (see params.ts). */
export type UniformField = ['u32' | 'i32' | 'f32', number];

/**
 * One compute dispatch. Storage buffers are bound at @group(0) @binding(0..n-1) in `bindings`
 * order; the uniforms, when any, at @binding(n). Pipelines are cached by `shader` text, so a
 * kernel should put sizes in uniforms, not in the source, unless specialising pays.
 */
export interface GpuDispatch {
  shader: string;
  bindings: GPUBufferBinding[];
  uniforms: UniformField[];
  workgroups: [number, number?, number?];
}

/** A WebGPU kernel plans the dispatches for one op (several when an input is split into chunks). */
export type WebGPUKernel<Name extends OpName> = (
  inputs: OpInputs[Name],
  outputs: OpOutputs[Name],
  params: OpParams[Name],
  context: KernelContext,
) => GpuDispatch[];

export function chunksOf(tensor: Tensor): GpuChunk[] {
  return (tensor.storage as GpuStorage).chunks;
}

/** The binding of a tensor stored in one buffer (the usual case; ops that accept split tensors use chunksOf). */
export function binding(tensor: Tensor, op: string): GPUBufferBinding {
  const chunks = chunksOf(tensor);
  if (chunks.length !== 1) {
    throw new KernelError(`${op}: ${tensor} is split across ${chunks.length} buffers, which this op does not support`);
  }
  const chunk = chunks[0] as GpuChunk;
  return { buffer: chunk.buffer, offset: 0, size: chunk.byteLength };
}

/**
 * Spreads `count` workgroups over x and y when x alone would pass the per-dimension limit. The shader
 * recovers the linear index as `wid.x + wid.y * nwg.x` (and must bounds-check it).
 */
export function grid(count: number, context: KernelContext): [number, number] {
  const max = context.maxWorkgroupsPerDimension;
  if (count <= max) return [Math.max(1, count), 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

/** Threads per workgroup of the kernels that run a thread per element or a workgroup per row. */
export const WORKGROUP = 256;
