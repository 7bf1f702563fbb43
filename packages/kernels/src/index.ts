/**
 * @llama-ts/kernels, browser entry: WebGPU from navigator.gpu, the wasm backend's workers as Web
 * Workers. (Node gets ./node.ts, which supplies Dawn and worker_threads instead, through the
 * package's `node` export condition.)
 */
import type { Backend } from './backend.js';
import { type BackendOptions, backendMakers } from './backend-makers.js';
import { createBackendWith } from './create-backend.js';
import { browserWasmHost } from './wasm/browser-workers.js';
import { navigatorGPU } from './webgpu/device.js';

export type { Backend, BackendKind } from './backend.js';
export type { BackendOptions } from './backend-makers.js';
export { fromArray, fromBFloat16, fromBytes, zeros } from './create.js';
export type { BackendChoice, CreateBackendOptions } from './create-backend.js';
export {
  bf16ToF16,
  bf16ToF32,
  blockElements,
  byteSize,
  type DType,
  dequantizeQ8_0,
  encodeAs,
  f16ToF32,
  f32ToF16,
  f32ToF16Bits,
  firstNonFinite,
  Q8_0_BLOCK,
  q8_0ScalesOffset,
  WEIGHT_DTYPES,
  type WeightDType,
} from './dtype.js';
export { KernelError } from './errors.js';
export { formatBytes } from './format-bytes.js';
export type { OpContract, OpInputs, OpName, OpOutputs, OpParams } from './op-contract.js';
export { type AdamWOptions, adamwStep } from './ops/adamwStep/op.js';
export { add } from './ops/add/op.js';
export { argmax } from './ops/argmax/op.js';
export { attention } from './ops/attention/op.js';
export { type AttentionGradients, attentionBackward } from './ops/attentionBackward/op.js';
export type { AccumulateOptions } from './ops/check.js';
export { crossEntropy } from './ops/crossEntropy/op.js';
export { embedding } from './ops/embedding/op.js';
export { embeddingBackward } from './ops/embeddingBackward/op.js';
export { type CacheRow, CacheRows, cacheRows } from './ops/kvWrite/cache-rows.js';
export { type CachePosition, kvWrite } from './ops/kvWrite/op.js';
export { logSoftmaxGather } from './ops/logSoftmaxGather/op.js';
export { matmul, matmulSwiglu } from './ops/matmul/op.js';
export { matmulGradInput, matmulGradWeight } from './ops/matmulGrad/op.js';
export { rmsNorm } from './ops/rmsNorm/op.js';
export { rmsNormBackward } from './ops/rmsNormBackward/op.js';
export { type RopeOptions, type RopeTableOptions, rope, ropeTable } from './ops/rope/op.js';
export { softmax } from './ops/softmax/op.js';
export { sumSquares } from './ops/sumSquares/op.js';
export { swiglu } from './ops/swiglu/op.js';
export { swigluBackward } from './ops/swigluBackward/op.js';
export { dequantizeExact } from './quant/dequantize.js';
export {
  BLOCK_FORMATS,
  type BlockDType,
  type BlockFormat,
  blocksToStorage,
  ggmlBytes,
  isBlockDType,
  storageToBlocks,
} from './quant/layout.js';
export { quantizeBlocks, quantizeToGgmlBlocks } from './quant/quantize.js';
export { Tensor } from './tensor.js';
export { WasmBackend, type WasmBackendOptions } from './wasm/backend.js';
export { WebGPUBackend, type WebGPUBackendOptions } from './webgpu/backend.js';
export { requestWebGPUDevice, type WebGPUContext, type WebGPUDeviceOptions } from './webgpu/device.js';

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
