import type { Backend } from '../backend.js';
import { byteSize, type DType, numElements } from '../dtype.js';
import { KernelError } from '../errors.js';
import type { OpInputs, OpName, OpOutputs, OpParams } from '../op-contract.js';
import { OPS } from '../registry.js';
import { Tensor } from '../tensor.js';
import type { WebGPUContext } from './device.js';
import type { GpuDispatch, KernelContext, UniformField } from './kernel.js';
import { type GpuChunk, type GpuStorage, placeRows, planChunks, sliceRows } from './storage.js';

export interface WebGPUBackendOptions {
  /**
   * Largest buffer one binding may hold; larger tensors are split into row chunks. Defaults to the
   * device's maxStorageBufferBindingSize; tests set it small to exercise splitting.
   */
  maxBindingSize?: number;
  /** Features the kernels must not use even when the device has them (tests run both paths). */
  disableFeatures?: readonly GPUFeatureName[];
}

const UNIFORM_ARENA_BYTES = 64 * 1024;
const POOLED_BUFFERS_PER_SIZE = 8;
/**
 * WebGPU backend. Dispatches are recorded into one command encoder, in one compute pass where
 * possible, and submitted when a tensor is read, written or `synchronize` is called. Uniforms of
 * all recorded dispatches share one arena buffer, written once per submit. Released buffers go to
 * a pool keyed by size.
 */
export class WebGPUBackend implements Backend {
  readonly kind = 'webgpu' as const;
  readonly description: string;
  readonly device: GPUDevice;
  readonly kernelContext: KernelContext;
  readonly maxBindingSize: number;

  #encoder: GPUCommandEncoder | undefined;
  #pass: GPUComputePassEncoder | undefined;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #pool = new Map<number, GPUBuffer[]>();
  readonly #uniformArena: GPUBuffer;
  /** Released buffers beyond the pool, used by recorded work: destroyed at the next submit. */
  readonly #destroyAfterSubmit: GPUBuffer[] = [];
  /** Scratch buffers taken by the op being recorded; pooled again once it is. */
  readonly #scratch: GPUBuffer[] = [];
  readonly #uniformMirror = new ArrayBuffer(UNIFORM_ARENA_BYTES);
  readonly #uniformAlignment: number;
  #uniformUsed = 0;
  #error: string | undefined;
  #destroyed = false;

  constructor(context: WebGPUContext, options: WebGPUBackendOptions = {}) {
    const { device, features } = context;
    this.device = device;
    this.description = context.description;
    const limits = device.limits;
    this.maxBindingSize = Math.min(
      options.maxBindingSize ?? Number.POSITIVE_INFINITY,
      limits.maxStorageBufferBindingSize,
      limits.maxBufferSize,
    );
    const usable = (feature: GPUFeatureName) => features.has(feature) && !options.disableFeatures?.includes(feature);
    // The matrix-vector kernel shuffles across 8 lanes, so it needs subgroups of at least 8.
    const subgroupMinSize = (context.adapter.info as { subgroupMinSize?: number }).subgroupMinSize ?? 0;
    this.kernelContext = {
      shaderF16: usable('shader-f16'),
      subgroups: usable('subgroups') && subgroupMinSize >= 8,
      maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      scratch: (byteLength) => {
        const { buffer } = this.#takeBuffer(byteLength);
        this.#scratch.push(buffer);
        return { buffer, offset: 0, size: byteLength };
      },
    };
    this.#uniformAlignment = limits.minUniformBufferOffsetAlignment;
    this.#uniformArena = device.createBuffer({
      label: 'llama-ts uniforms',
      size: UNIFORM_ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    device.addEventListener('uncapturederror', (event) => {
      this.#error ??= (event as GPUUncapturedErrorEvent).error.message;
    });
  }

  allocate(dtype: DType, shape: readonly number[], options: { zeroed?: boolean } = {}): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new KernelError(`allocate: invalid shape [${shape.join(', ')}]`);
    }
    const chunks: GpuChunk[] = planChunks(dtype, shape, this.maxBindingSize).map(({ rowStart, rowCount }) => {
      const byteLength = Math.max(4, byteSize(dtype, rowCount * numElements(shape.slice(1))));
      const { buffer, fresh } = this.#takeBuffer(byteLength);
      if (options.zeroed && !fresh) this.#commandEncoder().clearBuffer(buffer, 0, byteLength);
      return { buffer, byteLength, rowStart, rowCount };
    });
    if (chunks.some((chunk) => chunk.byteLength > this.maxBindingSize)) {
      throw new KernelError(
        `allocate: a row of ${dtype}[${shape.join(', ')}] is larger than one binding allows (${this.maxBindingSize} bytes)`,
      );
    }
    return new Tensor(this, dtype, shape, { chunks } satisfies GpuStorage);
  }

  write(tensor: Tensor, bytes: Uint8Array): void {
    const expected = byteSize(tensor.dtype, tensor.size);
    if (bytes.byteLength !== expected)
      throw new KernelError(`write: ${tensor} takes ${expected} bytes, got ${bytes.byteLength}`);
    // queue.writeBuffer runs before any command buffer submitted after it: submit what is recorded
    // first, so that earlier dispatches see the old contents.
    this.#submit();
    for (const chunk of storageOf(tensor).chunks) {
      const data = sliceRows(tensor.dtype, bytes, tensor.shape, chunk.rowStart, chunk.rowCount);
      this.device.queue.writeBuffer(chunk.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    }
  }

  async read(tensor: Tensor): Promise<Uint8Array> {
    const { chunks } = storageOf(tensor);
    const encoder = this.#commandEncoder();
    this.#endPass();
    const staging = chunks.map((chunk) => {
      const buffer = this.device.createBuffer({
        size: chunk.byteLength,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      encoder.copyBufferToBuffer(chunk.buffer, 0, buffer, 0, chunk.byteLength);
      return buffer;
    });
    this.#submit();
    const whole = new Uint8Array(byteSize(tensor.dtype, tensor.size));
    try {
      await Promise.all(staging.map((buffer) => buffer.mapAsync(GPUMapMode.READ)));
      this.#throwIfFailed();
      chunks.forEach((chunk, i) => {
        const bytes = new Uint8Array((staging[i] as GPUBuffer).getMappedRange());
        if (chunks.length === 1) whole.set(bytes.subarray(0, whole.byteLength));
        else placeRows(tensor.dtype, whole, tensor.shape, bytes, chunk.rowStart, chunk.rowCount);
      });
    } finally {
      for (const buffer of staging) buffer.destroy();
    }
    return whole;
  }

  dispatch<Name extends OpName>(
    op: Name,
    inputs: OpInputs[Name],
    outputs: OpOutputs[Name],
    params: OpParams[Name],
  ): void {
    for (const dispatch of OPS[op].webgpu(inputs, outputs, params, this.kernelContext)) this.#record(op, dispatch);
    for (const buffer of this.#scratch.splice(0)) this.#pooled(buffer);
  }

  view(tensor: Tensor, shape: readonly number[]): Tensor {
    // Chunks are runs of dim-0 rows; another shape would cut them elsewhere.
    if (storageOf(tensor).chunks.length !== 1) {
      throw new KernelError(
        `reshape: ${tensor} is split across bindings and cannot be viewed as [${shape.join(', ')}]`,
      );
    }
    return new Tensor(this, tensor.dtype, shape, tensor.storage, tensor.base ?? tensor);
  }

  release(tensor: Tensor): void {
    for (const chunk of storageOf(tensor).chunks) this.#pooled(chunk.buffer);
  }

  async synchronize(): Promise<void> {
    this.#submit();
    await this.device.queue.onSubmittedWorkDone();
    this.#throwIfFailed();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const bucket of this.#pool.values()) for (const buffer of bucket) buffer.destroy();
    this.#pool.clear();
    this.device.destroy();
  }

  #record(op: string, dispatch: GpuDispatch): void {
    const uniformBytes = dispatch.uniforms.length * 4;
    const alignedBytes = Math.ceil(Math.max(16, uniformBytes) / this.#uniformAlignment) * this.#uniformAlignment;
    if (this.#uniformUsed + alignedBytes > UNIFORM_ARENA_BYTES) this.#submit();
    const pipeline = this.#pipeline(op, dispatch.shader);
    const entries: GPUBindGroupEntry[] = dispatch.bindings.map((resource, i) => ({ binding: i, resource }));
    if (uniformBytes > 0) {
      const offset = this.#uniformUsed;
      writeUniforms(new DataView(this.#uniformMirror, offset, uniformBytes), dispatch.uniforms);
      entries.push({
        binding: dispatch.bindings.length,
        resource: { buffer: this.#uniformArena, offset, size: Math.max(16, Math.ceil(uniformBytes / 16) * 16) },
      });
      this.#uniformUsed += alignedBytes;
    }
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.#computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = dispatch.workgroups;
    pass.dispatchWorkgroups(x, y, z);
  }

  #pipeline(op: string, shader: string): GPUComputePipeline {
    let pipeline = this.#pipelines.get(shader);
    if (!pipeline) {
      const module = this.device.createShaderModule({ label: op, code: shader });
      pipeline = this.device.createComputePipeline({
        label: op,
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
      });
      this.#pipelines.set(shader, pipeline);
    }
    return pipeline;
  }

  /** Returns a buffer to the pool, or destroys it when its size's bucket is full. */
  #pooled(buffer: GPUBuffer): void {
    const bucket = this.#pool.get(buffer.size) ?? [];
    if (bucket.length < POOLED_BUFFERS_PER_SIZE) {
      bucket.push(buffer);
      this.#pool.set(buffer.size, bucket);
    } else if (this.#encoder) {
      // Recorded work may still use it: destroying it now would fail that work's submit.
      this.#destroyAfterSubmit.push(buffer);
    } else {
      buffer.destroy();
    }
  }

  #takeBuffer(byteLength: number): { buffer: GPUBuffer; fresh: boolean } {
    const size = Math.ceil(byteLength / 256) * 256;
    const pooled = this.#pool.get(size)?.pop();
    if (pooled) return { buffer: pooled, fresh: false };
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    return { buffer: this.device.createBuffer({ size, usage }), fresh: true };
  }

  #commandEncoder(): GPUCommandEncoder {
    if (this.#destroyed) throw new KernelError('the WebGPU backend has been destroyed');
    this.#encoder ??= this.device.createCommandEncoder();
    this.#endPass();
    return this.#encoder;
  }

  #computePass(): GPUComputePassEncoder {
    if (!this.#pass) {
      const encoder = this.#encoder ?? this.device.createCommandEncoder();
      this.#encoder = encoder;
      this.#pass = encoder.beginComputePass();
    }
    return this.#pass;
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = undefined;
  }

  #submit(): void {
    if (!this.#encoder) return;
    this.#endPass();
    if (this.#uniformUsed > 0)
      this.device.queue.writeBuffer(this.#uniformArena, 0, this.#uniformMirror, 0, this.#uniformUsed);
    this.device.queue.submit([this.#encoder.finish()]);
    this.#encoder = undefined;
    // Safe once submitted: WebGPU frees a destroyed buffer only after the work using it completes.
    for (const buffer of this.#destroyAfterSubmit.splice(0)) buffer.destroy();
    this.#uniformUsed = 0;
  }

  #throwIfFailed(): void {
    if (this.#error) throw new KernelError(`WebGPU error: ${this.#error}`);
  }
}

function storageOf(tensor: Tensor): GpuStorage {
  return tensor.storage as GpuStorage;
}

function writeUniforms(view: DataView, fields: readonly UniformField[]): void {
  fields.forEach(([type, value], i) => {
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'i32') view.setInt32(i * 4, value, true);
    else view.setUint32(i * 4, value, true);
  });
}
