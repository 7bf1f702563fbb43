import { at4, partStart } from '../../wasm/kernels/common.as';
import { rowSumSquares } from '../../wasm/kernels/rows.as';

/** y = x / sqrt(mean(x²) + eps) · weight per row; each thread its own rows. */
export function rmsNorm(tid: i32, nthreads: i32, x: usize, weight: usize, y: usize, rows: i32, dim: i32, eps: f32): void {
  const first = partStart(tid, nthreads, rows, 1);
  const last = partStart(tid + 1, nthreads, rows, 1);
  for (let r = first; r < last; r++) {
    const xr = at4(x, r * dim);
    const yr = at4(y, r * dim);
    const inverse: f32 = 1 / Mathf.sqrt(rowSumSquares(xr, dim) / <f32>dim + eps);
    const s = f32x4.splat(inverse);
    let i = 0;
    for (; i + 4 <= dim; i += 4) {
      v128.store(at4(yr, i), f32x4.mul(f32x4.mul(v128.load(at4(xr, i)), s), v128.load(at4(weight, i))));
    }
    for (; i < dim; i++) store<f32>(at4(yr, i), load<f32>(at4(xr, i)) * inverse * load<f32>(at4(weight, i)));
  }
}
