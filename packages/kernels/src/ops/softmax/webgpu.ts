import type { WebGPUKernel } from '../../webgpu/kernel.js';
import { planRows } from '../../webgpu/reduce.js';
import { SOFTMAX } from './softmax.wgsl.js';

export const softmax: WebGPUKernel<'softmax'> = ({ x }, { y }, p, context) =>
  planRows('softmax', SOFTMAX, [x, y], p, context);
