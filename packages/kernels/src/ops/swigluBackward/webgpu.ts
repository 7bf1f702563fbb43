import { binding, grid, type WebGPUKernel, WORKGROUP } from '../../webgpu/kernel.js';
import { SWIGLU_BACKWARD, SWIGLU_BACKWARD_PARAMS } from './swiglu-backward.wgsl.js';

export const swigluBackward: WebGPUKernel<'swigluBackward'> = ({ a, b, dY }, { dA, dB }, { size }, context) => [
  {
    shader: SWIGLU_BACKWARD,
    bindings: [a, b, dY, dA, dB].map((t) => binding(t, 'swigluBackward')),
    uniforms: SWIGLU_BACKWARD_PARAMS.values({ size }),
    workgroups: grid(Math.ceil(size / WORKGROUP), context),
  },
];
