/**
 * @llama-ts/kernels, browser entry: WebGPU from navigator.gpu, the wasm backend's workers as Web Workers. (Node gets ./node.ts, which
 * supplies Dawn instead, through the package's `node` export condition.)
 */
import type { Backend } from './backend.js';
import { type BackendOptions, backendMakers } from './backend-makers.js';
import { createBackendWith } from './create-backend.js';
import { browserWasmHost } from './wasm/browser-workers.js';
import { navigatorGPU } from './webgpu/device.js';

export type { Backend, BackendKind } from './backend.js';
export type { BackendOptions } from './backend-makers.js';
export { CpuBackend } from './cpu/backend.js';
export type { BackendChoice, CreateBackendOptions } from './create-backend.js';
export { softwareAdapterReason } from './create-backend.js';
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
export { WasmBackend, type WasmBackendOptions } from './wasm/backend.js';
export { WebGPUBackend, type WebGPUBackendOptions } from './webgpu/backend.js';
export {
  describeAdapter,
  navigatorGPU,
  OPTIONAL_FEATURES,
  openWebGPUDevice,
  requestWebGPUDevice,
  type WebGPUContext,
  type WebGPUDeviceOptions,
} from './webgpu/device.js';

/**
 * A backend: `kind` 'webgpu', 'wasm', 'cpu' or 'auto' (WebGPU on a hardware GPU adapter, else the
 * wasm backend; said once).
 */
export function createBackend(options: BackendOptions = {}): Promise<Backend> {
  return createBackendWith(
    backendMakers(options, async () => navigatorGPU(), browserWasmHost),
    options,
  );
}
