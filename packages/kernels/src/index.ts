/**
 * @llama-ts/kernels, browser entry: WebGPU from navigator.gpu. (Node gets ./node.ts, which
 * supplies Dawn instead, through the package's `node` export condition.)
 */
import type { Backend } from './backend.js';
import { type CreateBackendOptions, createBackendWith } from './create-backend.js';
import { WebGPUBackend, type WebGPUBackendOptions } from './webgpu/backend.js';
import { requestWebGPUDevice } from './webgpu/device.js';

export type { Backend, BackendKind } from './backend.js';
export { CpuBackend } from './cpu/backend.js';
export type { BackendChoice, CreateBackendOptions } from './create-backend.js';
export {
  bf16ToF16,
  bf16ToF32,
  byteSize,
  type DType,
  dequantizeQ8_0,
  f16ToF32,
  f32ToF16,
  firstNonFinite,
  numElements,
  Q8_0_BLOCK,
  quantizeQ8_0,
  type WeightDType,
} from './dtype.js';
export { KernelError } from './errors.js';
export { type AttentionGradients, attention, attentionBackward, type CachePosition, kvWrite } from './ops/attention.js';
export {
  type AccumulateOptions,
  crossEntropy,
  embeddingBackward,
  matmulGradInput,
  matmulGradWeight,
  rmsNormBackward,
  swigluBackward,
} from './ops/backward.js';
export { fromArray, fromBFloat16, fromBytes, zeros } from './ops/create.js';
export { add, swiglu } from './ops/elementwise.js';
export { embedding } from './ops/embedding.js';
export { matmul, matmulSwiglu } from './ops/matmul.js';
export { rmsNorm } from './ops/norm.js';
export { type AdamWOptions, adamwStep, sumSquares } from './ops/optimizer.js';
export type { OpName, OpParams } from './ops/params.js';
export {
  LLAMA31_ROPE_SCALING,
  type RopeOptions,
  type RopeScaling,
  type RopeTableOptions,
  rope,
  ropeFrequencies,
  ropeTable,
} from './ops/rope.js';
export { argmax, logSoftmaxGather, softmax } from './ops/softmax.js';
export { OPS } from './registry.js';
export { Tensor } from './tensor.js';
export { WebGPUBackend, type WebGPUBackendOptions } from './webgpu/backend.js';
export {
  describeAdapter,
  navigatorGPU,
  OPTIONAL_FEATURES,
  requestWebGPUDevice,
  type WebGPUContext,
  type WebGPUDeviceOptions,
} from './webgpu/device.js';

export type BackendOptions = CreateBackendOptions & WebGPUBackendOptions;

/** A backend: `kind` 'webgpu', 'cpu' or 'auto' (WebGPU when an adapter exists, else CPU, said once). */
export function createBackend(options: BackendOptions = {}): Promise<Backend> {
  return createBackendWith(async (opts) => {
    const context = await requestWebGPUDevice(opts.gpu ? { gpu: opts.gpu } : {});
    return context && new WebGPUBackend(context, options);
  }, options);
}
