/**
 * Every op, by name, with its CPU twin (src/cpu/kernels) and its WebGPU kernel
 * (src/webgpu/kernels). Contracts are in src/ops/params.ts; front ends in src/ops.
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
}

export const OPS: { readonly [Name in OpName]: OpKernels<Name> } = {
  matmul: { cpu: matmul, webgpu: gpuMatmul },
  matmulSwiglu: { cpu: matmulSwiglu, webgpu: gpuMatmulSwiglu },
  embedding: { cpu: embedding, webgpu: gpuEmbedding },
  rmsNorm: { cpu: rmsNorm, webgpu: gpuRmsNorm },
  rope: { cpu: rope, webgpu: gpuRope },
  kvWrite: { cpu: attention.kvWrite, webgpu: gpuAttention.kvWrite },
  attention: { cpu: attention.attention, webgpu: gpuAttention.attention },
  swiglu: { cpu: elementwise.swiglu, webgpu: gpuElementwise.swiglu },
  add: { cpu: elementwise.add, webgpu: gpuElementwise.add },
  softmax: { cpu: softmax.softmax, webgpu: gpuSoftmax.softmax },
  logSoftmaxGather: { cpu: softmax.logSoftmaxGather, webgpu: gpuSoftmax.logSoftmaxGather },
  argmax: { cpu: softmax.argmax, webgpu: gpuSoftmax.argmax },
  matmulGradInput: { cpu: backward.matmulGradInput, webgpu: gpuBackward.matmulGradInput },
  matmulGradWeight: { cpu: backward.matmulGradWeight, webgpu: gpuBackward.matmulGradWeight },
  crossEntropy: { cpu: backward.crossEntropy, webgpu: gpuSoftmax.crossEntropy },
  rmsNormBackward: { cpu: backward.rmsNormBackward, webgpu: gpuBackward.rmsNormBackward },
  swigluBackward: { cpu: backward.swigluBackward, webgpu: gpuBackward.swigluBackward },
  embeddingBackward: { cpu: backward.embeddingBackward, webgpu: gpuBackward.embeddingBackward },
  adamwStep: { cpu: optimizer.adamwStep, webgpu: gpuOptimizer.adamwStep },
  sumSquares: { cpu: optimizer.sumSquares, webgpu: gpuOptimizer.sumSquares },
  attentionBackward: { cpu: attention.attentionBackward, webgpu: gpuAttentionBackward },
};
