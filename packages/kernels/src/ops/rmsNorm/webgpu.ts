import { binding, grid, type WebGPUKernel } from '../../webgpu/kernel.js';
import { RMS_NORM, RMS_NORM_PARAMS } from './rms-norm.wgsl.js';

export const rmsNorm: WebGPUKernel<'rmsNorm'> = ({ x, weight }, { y }, { rows, dim, eps }, context) => [
  {
    shader: RMS_NORM,
    bindings: [binding(x, 'rmsNorm'), binding(weight, 'rmsNorm'), binding(y, 'rmsNorm')],
    uniforms: RMS_NORM_PARAMS.values({ rows, dim, eps }),
    workgroups: grid(rows, context),
  },
];
