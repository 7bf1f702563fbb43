// The one AssemblyScript entry of the wasm backend: every kernel export, compiled by
// scripts/build-wasm.mjs into one module. Each op's kernel lives in its own file under kernels/.
export { add } from './kernels/add.as';
export { adamwStep } from './kernels/adamw-step.as';
export { argmax } from './kernels/argmax.as';
export { attention, attentionBackward } from './kernels/attention.as';
export { readSum } from './kernels/bandwidth.as';
export { crossEntropy } from './kernels/cross-entropy.as';
export { embeddingBackward } from './kernels/embedding-backward.as';
export { embeddingF16, embeddingF32, embeddingQ8_0 } from './kernels/embedding.as';
export { gemmF32, matmulGemm } from './kernels/gemm.as';
export { kvWrite } from './kernels/kv-write.as';
export { logSoftmaxGather } from './kernels/log-softmax-gather.as';
export { matmulSwigluGemm, matvecSwiglu } from './kernels/matmul-swiglu.as';
export { matvecF16, matvecF32, matvecQ8_0, matvecQ8_0Int8 } from './kernels/matvec.as';
export { rmsNormBackwardRows, rmsNormBackwardWeight } from './kernels/rms-norm-backward.as';
export { rmsNorm } from './kernels/rms-norm.as';
export { rope } from './kernels/rope.as';
export { softmax } from './kernels/softmax.as';
export { sumSquaresPartials, sumSquaresTotal } from './kernels/sum-squares.as';
export { swigluBackward } from './kernels/swiglu-backward.as';
export { swiglu } from './kernels/swiglu.as';
export { testTrap } from './kernels/test-trap.as';

/** Where AssemblyScript's static area ends: the runtime's tensor allocator starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
