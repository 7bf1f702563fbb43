/**
 * Every op, by name, with its twin on each backend. An op's room, src/ops/<op>/ (or the room it
 * shares, see the README), holds its front end (op.ts), its CPU twin (cpu.ts), its WebGPU planner
 * (webgpu.ts) and its WGSL (*.wgsl.ts), its WebAssembly glue (wasm.ts) and, where the op has a
 * kernel of its own, its AssemblyScript (*.as.ts); its contract is in src/op-contract.ts.
 */
import type { CpuKernel } from './cpu/kernel.js';
import type { OpName } from './op-contract.js';
import { adamwStep as adamwStepCpu } from './ops/adamwStep/cpu.js';
import { adamwStep as adamwStepWasm } from './ops/adamwStep/wasm.js';
import { adamwStep as adamwStepWebGPU } from './ops/adamwStep/webgpu.js';
import { add as addCpu } from './ops/add/cpu.js';
import { add as addWasm } from './ops/add/wasm.js';
import { add as addWebGPU } from './ops/add/webgpu.js';
import { argmax as argmaxCpu } from './ops/argmax/cpu.js';
import { argmax as argmaxWasm } from './ops/argmax/wasm.js';
import { argmax as argmaxWebGPU } from './ops/argmax/webgpu.js';
import { attention as attentionCpu } from './ops/attention/cpu.js';
import { attention as attentionWasm } from './ops/attention/wasm.js';
import { attention as attentionWebGPU } from './ops/attention/webgpu.js';
import { attentionBackward as attentionBackwardCpu } from './ops/attentionBackward/cpu.js';
import { attentionBackward as attentionBackwardWasm } from './ops/attentionBackward/wasm.js';
import { attentionBackward as attentionBackwardWebGPU } from './ops/attentionBackward/webgpu.js';
import { crossEntropy as crossEntropyCpu } from './ops/crossEntropy/cpu.js';
import { crossEntropy as crossEntropyWasm } from './ops/crossEntropy/wasm.js';
import { crossEntropy as crossEntropyWebGPU } from './ops/crossEntropy/webgpu.js';
import { embedding as embeddingCpu } from './ops/embedding/cpu.js';
import { embedding as embeddingWasm } from './ops/embedding/wasm.js';
import { embedding as embeddingWebGPU } from './ops/embedding/webgpu.js';
import { embeddingBackward as embeddingBackwardCpu } from './ops/embeddingBackward/cpu.js';
import { embeddingBackward as embeddingBackwardWasm } from './ops/embeddingBackward/wasm.js';
import { embeddingBackward as embeddingBackwardWebGPU } from './ops/embeddingBackward/webgpu.js';
import { kvWrite as kvWriteCpu } from './ops/kvWrite/cpu.js';
import { kvWrite as kvWriteWasm } from './ops/kvWrite/wasm.js';
import { kvWrite as kvWriteWebGPU } from './ops/kvWrite/webgpu.js';
import { logSoftmaxGather as logSoftmaxGatherCpu } from './ops/logSoftmaxGather/cpu.js';
import { logSoftmaxGather as logSoftmaxGatherWasm } from './ops/logSoftmaxGather/wasm.js';
import { logSoftmaxGather as logSoftmaxGatherWebGPU } from './ops/logSoftmaxGather/webgpu.js';
import { matmul as matmulCpu, matmulSwiglu as matmulSwigluCpu } from './ops/matmul/cpu.js';
import { matmulSwiglu as matmulSwigluWasm, matmul as matmulWasm } from './ops/matmul/wasm.js';
import { matmulSwiglu as matmulSwigluWebGPU, matmul as matmulWebGPU } from './ops/matmul/webgpu.js';
import {
  matmulGradInput as matmulGradInputCpu,
  matmulGradWeight as matmulGradWeightCpu,
} from './ops/matmulGrad/cpu.js';
import {
  matmulGradInput as matmulGradInputWasm,
  matmulGradWeight as matmulGradWeightWasm,
} from './ops/matmulGrad/wasm.js';
import {
  matmulGradInput as matmulGradInputWebGPU,
  matmulGradWeight as matmulGradWeightWebGPU,
} from './ops/matmulGrad/webgpu.js';
import { rmsNorm as rmsNormCpu } from './ops/rmsNorm/cpu.js';
import { rmsNorm as rmsNormWasm } from './ops/rmsNorm/wasm.js';
import { rmsNorm as rmsNormWebGPU } from './ops/rmsNorm/webgpu.js';
import { rmsNormBackward as rmsNormBackwardCpu } from './ops/rmsNormBackward/cpu.js';
import { rmsNormBackward as rmsNormBackwardWasm } from './ops/rmsNormBackward/wasm.js';
import { rmsNormBackward as rmsNormBackwardWebGPU } from './ops/rmsNormBackward/webgpu.js';
import { rope as ropeCpu } from './ops/rope/cpu.js';
import { rope as ropeWasm } from './ops/rope/wasm.js';
import { rope as ropeWebGPU } from './ops/rope/webgpu.js';
import { softmax as softmaxCpu } from './ops/softmax/cpu.js';
import { softmax as softmaxWasm } from './ops/softmax/wasm.js';
import { softmax as softmaxWebGPU } from './ops/softmax/webgpu.js';
import { sumSquares as sumSquaresCpu } from './ops/sumSquares/cpu.js';
import { sumSquares as sumSquaresWasm } from './ops/sumSquares/wasm.js';
import { sumSquares as sumSquaresWebGPU } from './ops/sumSquares/webgpu.js';
import { swiglu as swigluCpu } from './ops/swiglu/cpu.js';
import { swiglu as swigluWasm } from './ops/swiglu/wasm.js';
import { swiglu as swigluWebGPU } from './ops/swiglu/webgpu.js';
import { swigluBackward as swigluBackwardCpu } from './ops/swigluBackward/cpu.js';
import { swigluBackward as swigluBackwardWasm } from './ops/swigluBackward/wasm.js';
import { swigluBackward as swigluBackwardWebGPU } from './ops/swigluBackward/webgpu.js';
import type { WasmKernel } from './wasm/kernel.js';
import type { WebGPUKernel } from './webgpu/kernel.js';

/** One op's kernels, one per backend kind: an op without all its twins does not compile. */
export interface OpKernels<Name extends OpName> {
  cpu: CpuKernel<Name>;
  webgpu: WebGPUKernel<Name>;
  wasm: WasmKernel<Name>;
}

export const OPS: { readonly [Name in OpName]: OpKernels<Name> } = {
  matmul: { cpu: matmulCpu, webgpu: matmulWebGPU, wasm: matmulWasm },
  matmulSwiglu: { cpu: matmulSwigluCpu, webgpu: matmulSwigluWebGPU, wasm: matmulSwigluWasm },
  embedding: { cpu: embeddingCpu, webgpu: embeddingWebGPU, wasm: embeddingWasm },
  rmsNorm: { cpu: rmsNormCpu, webgpu: rmsNormWebGPU, wasm: rmsNormWasm },
  rope: { cpu: ropeCpu, webgpu: ropeWebGPU, wasm: ropeWasm },
  kvWrite: { cpu: kvWriteCpu, webgpu: kvWriteWebGPU, wasm: kvWriteWasm },
  attention: { cpu: attentionCpu, webgpu: attentionWebGPU, wasm: attentionWasm },
  swiglu: { cpu: swigluCpu, webgpu: swigluWebGPU, wasm: swigluWasm },
  add: { cpu: addCpu, webgpu: addWebGPU, wasm: addWasm },
  softmax: { cpu: softmaxCpu, webgpu: softmaxWebGPU, wasm: softmaxWasm },
  logSoftmaxGather: { cpu: logSoftmaxGatherCpu, webgpu: logSoftmaxGatherWebGPU, wasm: logSoftmaxGatherWasm },
  argmax: { cpu: argmaxCpu, webgpu: argmaxWebGPU, wasm: argmaxWasm },
  matmulGradInput: { cpu: matmulGradInputCpu, webgpu: matmulGradInputWebGPU, wasm: matmulGradInputWasm },
  matmulGradWeight: { cpu: matmulGradWeightCpu, webgpu: matmulGradWeightWebGPU, wasm: matmulGradWeightWasm },
  crossEntropy: { cpu: crossEntropyCpu, webgpu: crossEntropyWebGPU, wasm: crossEntropyWasm },
  rmsNormBackward: { cpu: rmsNormBackwardCpu, webgpu: rmsNormBackwardWebGPU, wasm: rmsNormBackwardWasm },
  swigluBackward: { cpu: swigluBackwardCpu, webgpu: swigluBackwardWebGPU, wasm: swigluBackwardWasm },
  embeddingBackward: { cpu: embeddingBackwardCpu, webgpu: embeddingBackwardWebGPU, wasm: embeddingBackwardWasm },
  adamwStep: { cpu: adamwStepCpu, webgpu: adamwStepWebGPU, wasm: adamwStepWasm },
  sumSquares: { cpu: sumSquaresCpu, webgpu: sumSquaresWebGPU, wasm: sumSquaresWasm },
  attentionBackward: { cpu: attentionBackwardCpu, webgpu: attentionBackwardWebGPU, wasm: attentionBackwardWasm },
};
