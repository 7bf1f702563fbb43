import { at4, logf64, partStart } from '../../wasm/kernels/common.as';
import { rowMax, rowSumExp } from '../../wasm/kernels/rows.as';

/** y[r] = x[r, ids[r]] - max - log Σ e^(x[r] - max); 0 for an id outside 0..cols-1 (padding). */
export function logSoftmaxGather(tid: i32, nthreads: i32, x: usize, ids: usize, y: usize, rows: i32, cols: i32): void {
  const first = partStart(tid, nthreads, rows, 1);
  const last = partStart(tid + 1, nthreads, rows, 1);
  for (let r = first; r < last; r++) {
    const id = load<i32>(at4(ids, r));
    if (id < 0 || id >= cols) {
      store<f32>(at4(y, r), 0);
      continue;
    }
    const xr = at4(x, r * cols);
    const max = rowMax(xr, cols);
    const logSum = <f32>logf64(<f64>rowSumExp(xr, cols, max));
    store<f32>(at4(y, r), load<f32>(at4(xr, id)) - max - logSum);
  }
}
