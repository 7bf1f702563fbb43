import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

export const adamwStep: CpuKernel<'adamwStep'> = ({ grad }, { param, m, v }, p) => {
  const gs = f32(grad);
  const ps = f32(param);
  const ms = f32(m);
  const vs = f32(v);
  const decay = 1 - p.lr * p.weightDecay;
  for (let i = 0; i < p.size; i++) {
    const g = (gs[i] as number) * p.gradScale;
    const mi = p.beta1 * (ms[i] as number) + (1 - p.beta1) * g;
    const vi = p.beta2 * (vs[i] as number) + (1 - p.beta2) * g * g;
    ms[i] = mi;
    vs[i] = vi;
    ps[i] = (ps[i] as number) * decay - (p.lr * (mi / p.bias1)) / (Math.sqrt(vi / p.bias2) + p.eps);
  }
};
