import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

export const add: CpuKernel<'add'> = ({ a, b }, { y }, { size }) => {
  const as = f32(a);
  const bs = f32(b);
  const ys = f32(y);
  for (let i = 0; i < size; i++) ys[i] = (as[i] as number) + (bs[i] as number);
};
