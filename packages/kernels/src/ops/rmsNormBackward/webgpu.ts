import { binding, grid, type WebGPUKernel, WORKGROUP } from '../../webgpu/kernel.js';
import {
  RMS_NORM_BACKWARD_ROWS,
  RMS_NORM_BACKWARD_ROWS_PARAMS,
  RMS_NORM_BACKWARD_WEIGHT,
  RMS_NORM_BACKWARD_WEIGHT_PARAMS,
} from './rms-norm-backward.wgsl.js';

export const rmsNormBackward: WebGPUKernel<'rmsNormBackward'> = (
  { x, weight, dY },
  { dX, dWeight, rstd },
  { rows, dim, eps, accumulate },
  context,
) => {
  const bind = (t: Parameters<typeof binding>[0]) => binding(t, 'rmsNormBackward');
  return [
    {
      shader: RMS_NORM_BACKWARD_ROWS,
      bindings: [bind(x), bind(weight), bind(dY), bind(dX), bind(rstd)],
      uniforms: RMS_NORM_BACKWARD_ROWS_PARAMS.values({ rows, dim, eps }),
      workgroups: grid(rows, context),
    },
    {
      shader: RMS_NORM_BACKWARD_WEIGHT,
      bindings: [bind(x), bind(dY), bind(rstd), bind(dWeight)],
      uniforms: RMS_NORM_BACKWARD_WEIGHT_PARAMS.values({ rows, dim, accumulate }),
      workgroups: grid(Math.ceil(dim / WORKGROUP), context),
    },
  ];
};
