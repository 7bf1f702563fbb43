import { at4, partStart } from '../../wasm/kernels/common.as';

/**
 * Σ x² in two passes (two exports, one barrier apart): sumSquaresPartials writes `partials` partial
 * sums of consecutive chunks of ceil(size / partials) elements (each thread its own chunks), then
 * sumSquaresTotal (one thread) adds them into out[0].
 */
export function sumSquaresPartials(
  tid: i32,
  nthreads: i32,
  x: usize,
  partials: usize,
  size: i32,
  count: i32,
): void {
  const chunk = (size + count - 1) / count;
  const first = partStart(tid, nthreads, count, 1);
  const last = partStart(tid + 1, nthreads, count, 1);
  for (let p = first; p < last; p++) {
    const start = p * chunk < size ? p * chunk : size;
    const end = start + chunk < size ? start + chunk : size;
    let acc = f32x4.splat(0);
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const v = v128.load(at4(x, i));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    let sum =
      f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    for (; i < end; i++) {
      const v = load<f32>(at4(x, i));
      sum += v * v;
    }
    store<f32>(at4(partials, p), sum);
  }
}

export function sumSquaresTotal(tid: i32, nthreads: i32, partials: usize, out: usize, count: i32, accumulate: i32): void {
  if (tid != 0) return;
  let total: f32 = accumulate ? load<f32>(out) : 0;
  let sum: f32 = 0;
  for (let p = 0; p < count; p++) sum += load<f32>(at4(partials, p));
  total += sum;
  store<f32>(out, total);
}
