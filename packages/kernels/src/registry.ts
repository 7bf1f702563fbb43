/**
 * Every op, by name, with its twin on each backend. An op's room, src/ops/<op>/ (or the room it
 * shares, see the README), holds its front end (op.ts), its CPU twin (cpu.ts), its WebGPU planner
 * (webgpu.ts) and its WGSL (*.wgsl.ts); its contract is in src/op-contract.ts.
 */
import type { CpuKernel } from './cpu/kernel.js';
import type { OpName } from './op-contract.js';
import { adamwStep as adamwStepCpu } from './ops/adamwStep/cpu.js';
import { adamwStep as adamwStepWebGPU } from './ops/adamwStep/webgpu.js';
import { add as addCpu } from './ops/add/cpu.js';
import { add as addWebGPU } from './ops/add/webgpu.js';
import { argmax as argmaxCpu } from './ops/argmax/cpu.js';
import { argmax as argmaxWebGPU } from './ops/argmax/webgpu.js';
import { attention as attentionCpu } from './ops/attention/cpu.js';
import { attention as attentionWebGPU } from './ops/attention/webgpu.js';
import { attentionBackward as attentionBackwardCpu } from './ops/attentionBackward/cpu.js';
import { attentionBackward as attentionBackwardWebGPU } from './ops/attentionBackward/webgpu.js';
import { crossEntropy as crossEntropyCpu } from './ops/crossEntropy/cpu.js';
import { crossEntropy as crossEntropyWebGPU } from './ops/crossEntropy/webgpu.js';
import { embedding as embeddingCpu } from './ops/embedding/cpu.js';
import { embedding as embeddingWebGPU } from './ops/embedding/webgpu.js';
import { embeddingBackward as embeddingBackwardCpu } from './ops/embeddingBackward/cpu.js';
import { embeddingBackward as embeddingBackwardWebGPU } from './ops/embeddingBackward/webgpu.js';
import { kvWrite as kvWriteCpu } from './ops/kvWrite/cpu.js';
import { kvWrite as kvWriteWebGPU } from './ops/kvWrite/webgpu.js';
import { logSoftmaxGather as logSoftmaxGatherCpu } from './ops/logSoftmaxGather/cpu.js';
import { logSoftmaxGather as logSoftmaxGatherWebGPU } from './ops/logSoftmaxGather/webgpu.js';
import { matmul as matmulCpu, matmulSwiglu as matmulSwigluCpu } from './ops/matmul/cpu.js';
import { matmulSwiglu as matmulSwigluWebGPU, matmul as matmulWebGPU } from './ops/matmul/webgpu.js';
import {
  matmulGradInput as matmulGradInputCpu,
  matmulGradWeight as matmulGradWeightCpu,
} from './ops/matmulGrad/cpu.js';
import {
  matmulGradInput as matmulGradInputWebGPU,
  matmulGradWeight as matmulGradWeightWebGPU,
} from './ops/matmulGrad/webgpu.js';
import { rmsNorm as rmsNormCpu } from './ops/rmsNorm/cpu.js';
import { rmsNorm as rmsNormWebGPU } from './ops/rmsNorm/webgpu.js';
import { rmsNormBackward as rmsNormBackwardCpu } from './ops/rmsNormBackward/cpu.js';
import { rmsNormBackward as rmsNormBackwardWebGPU } from './ops/rmsNormBackward/webgpu.js';
import { rope as ropeCpu } from './ops/rope/cpu.js';
import { rope as ropeWebGPU } from './ops/rope/webgpu.js';
import { softmax as softmaxCpu } from './ops/softmax/cpu.js';
import { softmax as softmaxWebGPU } from './ops/softmax/webgpu.js';
import { sumSquares as sumSquaresCpu } from './ops/sumSquares/cpu.js';
import { sumSquares as sumSquaresWebGPU } from './ops/sumSquares/webgpu.js';
import { swiglu as swigluCpu } from './ops/swiglu/cpu.js';
import { swiglu as swigluWebGPU } from './ops/swiglu/webgpu.js';
import { swigluBackward as swigluBackwardCpu } from './ops/swigluBackward/cpu.js';
import { swigluBackward as swigluBackwardWebGPU } from './ops/swigluBackward/webgpu.js';
import type { WebGPUKernel } from './webgpu/kernel.js';

/**
 * One op's kernels, one per backend kind. A new backend kind (the WebAssembly one) joins as an
 * optional member, `wasm?: WasmKernel<Name>`, so that its twins can land op by op; its backend
 * runs the CPU twin of an op that has none yet.
 */
export interface OpKernels<Name extends OpName> {
  cpu: CpuKernel<Name>;
  webgpu: WebGPUKernel<Name>;
}

export const OPS: { readonly [Name in OpName]: OpKernels<Name> } = {
  matmul: { cpu: matmulCpu, webgpu: matmulWebGPU },
  matmulSwiglu: { cpu: matmulSwigluCpu, webgpu: matmulSwigluWebGPU },
  embedding: { cpu: embeddingCpu, webgpu: embeddingWebGPU },
  rmsNorm: { cpu: rmsNormCpu, webgpu: rmsNormWebGPU },
  rope: { cpu: ropeCpu, webgpu: ropeWebGPU },
  kvWrite: { cpu: kvWriteCpu, webgpu: kvWriteWebGPU },
  attention: { cpu: attentionCpu, webgpu: attentionWebGPU },
  swiglu: { cpu: swigluCpu, webgpu: swigluWebGPU },
  add: { cpu: addCpu, webgpu: addWebGPU },
  softmax: { cpu: softmaxCpu, webgpu: softmaxWebGPU },
  logSoftmaxGather: { cpu: logSoftmaxGatherCpu, webgpu: logSoftmaxGatherWebGPU },
  argmax: { cpu: argmaxCpu, webgpu: argmaxWebGPU },
  matmulGradInput: { cpu: matmulGradInputCpu, webgpu: matmulGradInputWebGPU },
  matmulGradWeight: { cpu: matmulGradWeightCpu, webgpu: matmulGradWeightWebGPU },
  crossEntropy: { cpu: crossEntropyCpu, webgpu: crossEntropyWebGPU },
  rmsNormBackward: { cpu: rmsNormBackwardCpu, webgpu: rmsNormBackwardWebGPU },
  swigluBackward: { cpu: swigluBackwardCpu, webgpu: swigluBackwardWebGPU },
  embeddingBackward: { cpu: embeddingBackwardCpu, webgpu: embeddingBackwardWebGPU },
  adamwStep: { cpu: adamwStepCpu, webgpu: adamwStepWebGPU },
  sumSquares: { cpu: sumSquaresCpu, webgpu: sumSquaresWebGPU },
  attentionBackward: { cpu: attentionBackwardCpu, webgpu: attentionBackwardWebGPU },
};
