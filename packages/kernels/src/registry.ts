/**
 * Every op, by name, with its CPU twin (src/cpu/kernels), its WebGPU kernel (src/webgpu/kernels)
 * and its WebAssembly glue (src/wasm/ops, running the AssemblyScript kernels of src/wasm/kernels).
 * Contracts are in src/ops/params.ts; front ends in src/ops.
 */
import * as attention from './cpu/kernels/attention.js';
import * as backward from './cpu/kernels/backward.js';
import * as elementwise from './cpu/kernels/elementwise.js';
import { embedding } from './cpu/kernels/embedding.js';
import { matmul, matmulSwiglu } from './cpu/kernels/matmul.js';
import { rmsNorm } from './cpu/kernels/norm.js';
import * as optimizer from './cpu/kernels/optimizer.js';
import { rope } from './cpu/kernels/rope.js';
import * as softmax from './cpu/kernels/softmax.js';
import type { OpName, OpParams } from './ops/params.js';
import type { Tensor } from './tensor.js';
import type { WasmKernel } from './wasm/kernel.js';
import { adamwStep as wasmAdamwStep } from './wasm/ops/adamw-step.js';
import { add as wasmAdd } from './wasm/ops/add.js';
import { argmax as wasmArgmax } from './wasm/ops/argmax.js';
import { attention as wasmAttention } from './wasm/ops/attention.js';
import { attentionBackward as wasmAttentionBackward } from './wasm/ops/attention-backward.js';
import { crossEntropy as wasmCrossEntropy } from './wasm/ops/cross-entropy.js';
import { embedding as wasmEmbedding } from './wasm/ops/embedding.js';
import { embeddingBackward as wasmEmbeddingBackward } from './wasm/ops/embedding-backward.js';
import { kvWrite as wasmKvWrite } from './wasm/ops/kv-write.js';
import { logSoftmaxGather as wasmLogSoftmaxGather } from './wasm/ops/log-softmax-gather.js';
import { matmul as wasmMatmul } from './wasm/ops/matmul.js';
import { matmulGradInput as wasmMatmulGradInput } from './wasm/ops/matmul-grad-input.js';
import { matmulGradWeight as wasmMatmulGradWeight } from './wasm/ops/matmul-grad-weight.js';
import { matmulSwiglu as wasmMatmulSwiglu } from './wasm/ops/matmul-swiglu.js';
import { rmsNorm as wasmRmsNorm } from './wasm/ops/rms-norm.js';
import { rmsNormBackward as wasmRmsNormBackward } from './wasm/ops/rms-norm-backward.js';
import { rope as wasmRope } from './wasm/ops/rope.js';
import { softmax as wasmSoftmax } from './wasm/ops/softmax.js';
import { sumSquares as wasmSumSquares } from './wasm/ops/sum-squares.js';
import { swiglu as wasmSwiglu } from './wasm/ops/swiglu.js';
import { swigluBackward as wasmSwigluBackward } from './wasm/ops/swiglu-backward.js';
import type { WebGPUKernel } from './webgpu/kernel.js';
import * as gpuAttention from './webgpu/kernels/attention.js';
import { attentionBackward as gpuAttentionBackward } from './webgpu/kernels/attention-backward.js';
import * as gpuBackward from './webgpu/kernels/backward.js';
import * as gpuElementwise from './webgpu/kernels/elementwise.js';
import { embedding as gpuEmbedding } from './webgpu/kernels/embedding.js';
import { matmul as gpuMatmul, matmulSwiglu as gpuMatmulSwiglu } from './webgpu/kernels/matmul.js';
import { rmsNorm as gpuRmsNorm } from './webgpu/kernels/norm.js';
import * as gpuOptimizer from './webgpu/kernels/optimizer.js';
import { rope as gpuRope } from './webgpu/kernels/rope.js';
import * as gpuSoftmax from './webgpu/kernels/softmax.js';

export type CpuKernel<Name extends OpName> = (
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  params: OpParams[Name],
) => void;

export interface OpKernels<Name extends OpName> {
  cpu: CpuKernel<Name>;
  webgpu: WebGPUKernel<Name>;
  wasm: WasmKernel<Name>;
}

export const OPS: { readonly [Name in OpName]: OpKernels<Name> } = {
  matmul: { cpu: matmul, webgpu: gpuMatmul, wasm: wasmMatmul },
  matmulSwiglu: { cpu: matmulSwiglu, webgpu: gpuMatmulSwiglu, wasm: wasmMatmulSwiglu },
  embedding: { cpu: embedding, webgpu: gpuEmbedding, wasm: wasmEmbedding },
  rmsNorm: { cpu: rmsNorm, webgpu: gpuRmsNorm, wasm: wasmRmsNorm },
  rope: { cpu: rope, webgpu: gpuRope, wasm: wasmRope },
  kvWrite: { cpu: attention.kvWrite, webgpu: gpuAttention.kvWrite, wasm: wasmKvWrite },
  attention: { cpu: attention.attention, webgpu: gpuAttention.attention, wasm: wasmAttention },
  swiglu: { cpu: elementwise.swiglu, webgpu: gpuElementwise.swiglu, wasm: wasmSwiglu },
  add: { cpu: elementwise.add, webgpu: gpuElementwise.add, wasm: wasmAdd },
  softmax: { cpu: softmax.softmax, webgpu: gpuSoftmax.softmax, wasm: wasmSoftmax },
  logSoftmaxGather: { cpu: softmax.logSoftmaxGather, webgpu: gpuSoftmax.logSoftmaxGather, wasm: wasmLogSoftmaxGather },
  argmax: { cpu: softmax.argmax, webgpu: gpuSoftmax.argmax, wasm: wasmArgmax },
  matmulGradInput: { cpu: backward.matmulGradInput, webgpu: gpuBackward.matmulGradInput, wasm: wasmMatmulGradInput },
  matmulGradWeight: {
    cpu: backward.matmulGradWeight,
    webgpu: gpuBackward.matmulGradWeight,
    wasm: wasmMatmulGradWeight,
  },
  crossEntropy: { cpu: backward.crossEntropy, webgpu: gpuSoftmax.crossEntropy, wasm: wasmCrossEntropy },
  rmsNormBackward: { cpu: backward.rmsNormBackward, webgpu: gpuBackward.rmsNormBackward, wasm: wasmRmsNormBackward },
  swigluBackward: { cpu: backward.swigluBackward, webgpu: gpuBackward.swigluBackward, wasm: wasmSwigluBackward },
  embeddingBackward: {
    cpu: backward.embeddingBackward,
    webgpu: gpuBackward.embeddingBackward,
    wasm: wasmEmbeddingBackward,
  },
  adamwStep: { cpu: optimizer.adamwStep, webgpu: gpuOptimizer.adamwStep, wasm: wasmAdamwStep },
  sumSquares: { cpu: optimizer.sumSquares, webgpu: gpuOptimizer.sumSquares, wasm: wasmSumSquares },
  attentionBackward: { cpu: attention.attentionBackward, webgpu: gpuAttentionBackward, wasm: wasmAttentionBackward },
};
