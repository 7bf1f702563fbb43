/**
 * The read-bandwidth yardstick for the kernels bench: sums a buffer as f32 with SIMD, split across
 * the threads, so matrix-vector GB/s can be set beside what plain streaming reads reach at the same
 * thread count. Eight independent accumulators, 128 bytes per iteration: the loop is bound by the
 * memory, not by the adds.
 */
import { shareStart } from './simd.as';

/**
 * Thread tid sums its share of `bytes` bytes at `data` (split in 128-byte chunks; a tail that is no
 * whole chunk is left out) and writes it to out[tid] (f32).
 */
export function readSum(tid: i32, nthreads: i32, data: usize, bytes: i32, out: usize): void {
  const chunks = bytes >> 7;
  const first = data + (<usize>shareStart(chunks, tid, nthreads) << 7);
  const end = data + (<usize>shareStart(chunks, tid + 1, nthreads) << 7);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  for (let p = first; p < end; p += 128) {
    a0 = f32x4.add(a0, v128.load(p));
    a1 = f32x4.add(a1, v128.load(p, 16));
    a2 = f32x4.add(a2, v128.load(p, 32));
    a3 = f32x4.add(a3, v128.load(p, 48));
    a4 = f32x4.add(a4, v128.load(p, 64));
    a5 = f32x4.add(a5, v128.load(p, 80));
    a6 = f32x4.add(a6, v128.load(p, 96));
    a7 = f32x4.add(a7, v128.load(p, 112));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  store<f32>(out + (<usize>tid << 2), f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
}
