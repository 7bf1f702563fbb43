import { at4, expf, expf4, partStart } from '../../wasm/kernels/common.as';

/** dA = dY · b · σ(a)(1 + a(1 - σ(a))), dB = dY · a · σ(a). */
export function swigluBackward(
  tid: i32,
  nthreads: i32,
  a: usize,
  b: usize,
  dY: usize,
  dA: usize,
  dB: usize,
  size: i32,
): void {
  const start = partStart(tid, nthreads, size, 4);
  const end = partStart(tid + 1, nthreads, size, 4);
  const one = f32x4.splat(1);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const z = v128.load(at4(a, i));
    const g = v128.load(at4(dY, i));
    const sigma = f32x4.div(one, f32x4.add(one, expf4(f32x4.neg(z))));
    const slope = f32x4.mul(sigma, f32x4.add(one, f32x4.mul(z, f32x4.sub(one, sigma))));
    v128.store(at4(dA, i), f32x4.mul(f32x4.mul(g, v128.load(at4(b, i))), slope));
    v128.store(at4(dB, i), f32x4.mul(f32x4.mul(g, z), sigma));
  }
  for (; i < end; i++) {
    const z = load<f32>(at4(a, i));
    const g = load<f32>(at4(dY, i));
    const sigma: f32 = 1 / (1 + expf(-z));
    store<f32>(at4(dA, i), g * load<f32>(at4(b, i)) * (sigma * (1 + z * (1 - sigma))));
    store<f32>(at4(dB, i), g * z * sigma);
  }
}
