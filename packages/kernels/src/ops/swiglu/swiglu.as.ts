import { at4, expf, expf4, partStart } from '../../wasm/kernels/common.as';

/** y = silu(a) · b, silu(z) = z / (1 + e^-z). */
export function swiglu(tid: i32, nthreads: i32, a: usize, b: usize, y: usize, size: i32): void {
  const start = partStart(tid, nthreads, size, 4);
  const end = partStart(tid + 1, nthreads, size, 4);
  const one = f32x4.splat(1);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const z = v128.load(at4(a, i));
    const silu = f32x4.div(z, f32x4.add(one, expf4(f32x4.neg(z))));
    v128.store(at4(y, i), f32x4.mul(silu, v128.load(at4(b, i))));
  }
  for (; i < end; i++) {
    const z = load<f32>(at4(a, i));
    store<f32>(at4(y, i), (z / (1 + expf(-z))) * load<f32>(at4(b, i)));
  }
}
