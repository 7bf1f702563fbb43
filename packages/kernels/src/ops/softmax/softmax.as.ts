import { at4, expf, expf4, partStart } from '../../wasm/kernels/common.as';
import { rowMax } from '../../wasm/kernels/rows.as';

/** Softmax over the last axis, max subtracted; each thread its own rows. */
export function softmax(tid: i32, nthreads: i32, x: usize, y: usize, rows: i32, cols: i32): void {
  const first = partStart(tid, nthreads, rows, 1);
  const last = partStart(tid + 1, nthreads, rows, 1);
  for (let r = first; r < last; r++) {
    const xr = at4(x, r * cols);
    const yr = at4(y, r * cols);
    const max = rowMax(xr, cols);
    const m = f32x4.splat(max);
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const e = expf4(f32x4.sub(v128.load(at4(xr, c)), m));
      v128.store(at4(yr, c), e);
      acc = f32x4.add(acc, e);
    }
    let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    for (; c < cols; c++) {
      const e = expf(load<f32>(at4(xr, c)) - max);
      store<f32>(at4(yr, c), e);
      sum += e;
    }
    const s = f32x4.splat(sum);
    c = 0;
    for (; c + 4 <= cols; c += 4) v128.store(at4(yr, c), f32x4.div(v128.load(at4(yr, c)), s));
    for (; c < cols; c++) store<f32>(at4(yr, c), load<f32>(at4(yr, c)) / sum);
  }
}
