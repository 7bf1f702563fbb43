import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

export const swiglu: CpuKernel<'swiglu'> = ({ a, b }, { y }, { size }) => {
  const as = f32(a);
  const bs = f32(b);
  const ys = f32(y);
  for (let i = 0; i < size; i++) {
    const z = as[i] as number;
    ys[i] = (z / (1 + Math.exp(-z))) * (bs[i] as number);
  }
};
