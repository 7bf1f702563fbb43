// The one AssemblyScript entry of the wasm backend: every kernel export, compiled by
// scripts/build-wasm.mjs into one module. An op's own kernel lives in its room
// (src/ops/<op>/*.as.ts, beside its other twins); the libraries several ops share (gemm, matvec,
// rows, half, simd, common math) and the bench's and tests' kernels are under kernels/ here.

// Op rooms
export { adamwStep } from '../ops/adamwStep/adamw-step.as';
export { add } from '../ops/add/add.as';
export { argmax } from '../ops/argmax/argmax.as';
export { attention } from '../ops/attention/attention.as';
export { attentionBackward } from '../ops/attentionBackward/attention-backward.as';
export { crossEntropy } from '../ops/crossEntropy/cross-entropy.as';
export { embeddingF16, embeddingF32, embeddingQ8_0 } from '../ops/embedding/embedding.as';
export { embeddingBackward } from '../ops/embeddingBackward/embedding-backward.as';
export { kvWrite } from '../ops/kvWrite/kv-write.as';
export { logSoftmaxGather } from '../ops/logSoftmaxGather/log-softmax-gather.as';
export { matmulSwigluGemm, matvecSwiglu } from '../ops/matmul/matmul-swiglu.as';
export { rmsNorm } from '../ops/rmsNorm/rms-norm.as';
export { rmsNormBackwardRows, rmsNormBackwardWeight } from '../ops/rmsNormBackward/rms-norm-backward.as';
export { rope } from '../ops/rope/rope.as';
export { softmax } from '../ops/softmax/softmax.as';
export { sumSquaresPartials, sumSquaresTotal } from '../ops/sumSquares/sum-squares.as';
export { swiglu } from '../ops/swiglu/swiglu.as';
export { swigluBackward } from '../ops/swigluBackward/swiglu-backward.as';

// Shared kernels: matmul's matrix-vector and gemm forms (also matmulGrad's and attention's
// building blocks), the bench's read-bandwidth yardstick, the pool tests' trap.
export { gemmF32, matmulGemm } from './kernels/gemm.as';
export { matvecF16, matvecF32, matvecQ8_0, quantizeQ8Activations } from './kernels/matvec.as';
export { embeddingBlocks, matvecBlocksQ8 } from './kernels/blocks.as';
export { readSum } from './kernels/bandwidth.as';
export { testTrap } from './kernels/test-trap.as';

/** Where AssemblyScript's static area ends: the runtime's tensor allocator starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
