import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32 } from '../views.js';

export function adamwStep([grad]: readonly Tensor[], [param, m, v]: readonly Tensor[], p: OpParams['adamwStep']): void {
  const gs = f32(grad as Tensor);
  const ps = f32(param as Tensor);
  const ms = f32(m as Tensor);
  const vs = f32(v as Tensor);
  const decay = 1 - p.lr * p.weightDecay;
  for (let i = 0; i < p.size; i++) {
    const g = (gs[i] as number) * p.gradScale;
    const mi = p.beta1 * (ms[i] as number) + (1 - p.beta1) * g;
    const vi = p.beta2 * (vs[i] as number) + (1 - p.beta2) * g * g;
    ms[i] = mi;
    vs[i] = vi;
    ps[i] = (ps[i] as number) * decay - (p.lr * (mi / p.bias1)) / (Math.sqrt(vi / p.bias2) + p.eps);
  }
}

export function sumSquares(
  [x]: readonly Tensor[],
  [out, partials]: readonly Tensor[],
  { size, partials: count, accumulate }: OpParams['sumSquares'],
): void {
  const xs = f32(x as Tensor);
  const os = f32(out as Tensor);
  const ps = f32(partials as Tensor);
  const chunk = Math.ceil(size / count);
  let total = 0;
  for (let p = 0; p < count; p++) {
    let sum = 0;
    for (let i = p * chunk; i < Math.min(size, (p + 1) * chunk); i++) sum += (xs[i] as number) ** 2;
    ps[p] = sum;
    total += sum;
  }
  os[0] = (accumulate ? (os[0] as number) : 0) + total;
}
