import { at4, partStart } from '../../wasm/kernels/common.as';

/** Index of the first maximum per row (i32). */
export function argmax(tid: i32, nthreads: i32, x: usize, y: usize, rows: i32, cols: i32): void {
  const first = partStart(tid, nthreads, rows, 1);
  const last = partStart(tid + 1, nthreads, rows, 1);
  for (let r = first; r < last; r++) {
    const xr = at4(x, r * cols);
    let best = 0;
    let bestValue = load<f32>(xr);
    for (let c = 1; c < cols; c++) {
      const v = load<f32>(at4(xr, c));
      if (v > bestValue) {
        best = c;
        bestValue = v;
      }
    }
    store<i32>(at4(y, r), best);
  }
}
