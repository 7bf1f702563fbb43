import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

export const swigluBackward: CpuKernel<'swigluBackward'> = ({ a, b, dY }, { dA, dB }, { size }) => {
  const as = f32(a);
  const bs = f32(b);
  const gs = f32(dY);
  const das = f32(dA);
  const dbs = f32(dB);
  for (let i = 0; i < size; i++) {
    const z = as[i] as number;
    const g = gs[i] as number;
    const sigma = 1 / (1 + Math.exp(-z));
    das[i] = g * (bs[i] as number) * sigma * (1 + z * (1 - sigma));
    dbs[i] = g * z * sigma;
  }
};
