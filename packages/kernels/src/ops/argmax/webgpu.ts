import type { WebGPUKernel } from '../../webgpu/kernel.js';
import { planRows } from '../../webgpu/reduce.js';
import { ARGMAX } from './argmax.wgsl.js';

export const argmax: WebGPUKernel<'argmax'> = ({ x }, { y }, p, context) =>
  planRows('argmax', ARGMAX, [x, y], p, context);
