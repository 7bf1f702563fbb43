import { binding, grid, type WebGPUKernel } from '../../webgpu/kernel.js';
import { CROSS_ENTROPY, CROSS_ENTROPY_PARAMS } from './cross-entropy.wgsl.js';

export const crossEntropy: WebGPUKernel<'crossEntropy'> = ({ logits, targets }, { loss, dLogits }, p, context) => [
  {
    shader: CROSS_ENTROPY,
    bindings: [logits, targets, loss, dLogits].map((t) => binding(t, 'crossEntropy')),
    uniforms: CROSS_ENTROPY_PARAMS.values(p),
    workgroups: grid(p.rows, context),
  },
];
