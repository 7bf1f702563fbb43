import { planBinary } from '../../webgpu/elementwise.js';
import type { WebGPUKernel } from '../../webgpu/kernel.js';
import { SWIGLU } from './swiglu.wgsl.js';

export const swiglu: WebGPUKernel<'swiglu'> = (inputs, outputs, { size }, context) =>
  planBinary('swiglu', SWIGLU, inputs, outputs, size, context);
