import type { WebGPUKernel } from '../../webgpu/kernel.js';
import { planRows } from '../../webgpu/reduce.js';
import { LOG_SOFTMAX_GATHER } from './log-softmax-gather.wgsl.js';

export const logSoftmaxGather: WebGPUKernel<'logSoftmaxGather'> = ({ x, ids }, { y }, p, context) =>
  planRows('logSoftmaxGather', LOG_SOFTMAX_GATHER, [x, ids, y], p, context);
