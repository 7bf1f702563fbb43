import { at4, partStart } from '../../wasm/kernels/common.as';

/** y = a + b over `size` f32, split in parts of whole vectors. */
export function add(tid: i32, nthreads: i32, a: usize, b: usize, y: usize, size: i32): void {
  const start = partStart(tid, nthreads, size, 4);
  const end = partStart(tid + 1, nthreads, size, 4);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    v128.store(at4(y, i), f32x4.add(v128.load(at4(a, i)), v128.load(at4(b, i))));
  }
  for (; i < end; i++) store<f32>(at4(y, i), load<f32>(at4(a, i)) + load<f32>(at4(b, i)));
}
