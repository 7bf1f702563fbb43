import { planBinary } from '../../webgpu/elementwise.js';
import type { WebGPUKernel } from '../../webgpu/kernel.js';
import { ADD } from './add.wgsl.js';

export const add: WebGPUKernel<'add'> = (inputs, outputs, { size }, context) =>
  planBinary('add', ADD, inputs, outputs, size, context);
