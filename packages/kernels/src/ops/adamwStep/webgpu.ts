import { binding, grid, type WebGPUKernel, WORKGROUP } from '../../webgpu/kernel.js';
import { ADAMW, ADAMW_PARAMS } from './adamw.wgsl.js';

export const adamwStep: WebGPUKernel<'adamwStep'> = ({ grad }, { param, m, v }, p, context) => [
  {
    shader: ADAMW,
    bindings: [grad, param, m, v].map((t) => binding(t, 'adamwStep')),
    uniforms: ADAMW_PARAMS.values({
      size: p.size,
      lr: p.lr,
      beta1: p.beta1,
      beta2: p.beta2,
      eps: p.eps,
      weight_decay: p.weightDecay,
      bias1: p.bias1,
      bias2: p.bias2,
      grad_scale: p.gradScale,
    }),
    workgroups: grid(Math.ceil(p.size / WORKGROUP), context),
  },
];
