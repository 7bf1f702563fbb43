import { at4, expf, expf4, logf64, partStart } from '../../wasm/kernels/common.as';
import { rowMax, rowSumExp } from '../../wasm/kernels/rows.as';

/**
 * loss[r] = log Σ e^(x - max) - (x[id] - max), dLogits[r] = (softmax(x[r]) - onehot(id)) · scale;
 * a target outside 0..cols-1 gives loss 0 and a zero gradient row. Rows split across threads.
 */
export function crossEntropy(
  tid: i32,
  nthreads: i32,
  logits: usize,
  targets: usize,
  loss: usize,
  dLogits: usize,
  rows: i32,
  cols: i32,
  scale: f32,
): void {
  const first = partStart(tid, nthreads, rows, 1);
  const last = partStart(tid + 1, nthreads, rows, 1);
  for (let r = first; r < last; r++) {
    const id = load<i32>(at4(targets, r));
    const xr = at4(logits, r * cols);
    const dr = at4(dLogits, r * cols);
    if (id < 0 || id >= cols) {
      store<f32>(at4(loss, r), 0);
      memory.fill(dr, 0, (<usize>cols) << 2);
      continue;
    }
    const max = rowMax(xr, cols);
    const sum = rowSumExp(xr, cols, max);
    store<f32>(at4(loss, r), <f32>logf64(<f64>sum) - (load<f32>(at4(xr, id)) - max));
    const m = f32x4.splat(max);
    const s = f32x4.splat(sum);
    const k = f32x4.splat(scale);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const p = f32x4.div(expf4(f32x4.sub(v128.load(at4(xr, c)), m)), s);
      v128.store(at4(dr, c), f32x4.mul(p, k));
    }
    for (; c < cols; c++) store<f32>(at4(dr, c), (expf(load<f32>(at4(xr, c)) - max) / sum) * scale);
    const p = expf(load<f32>(at4(xr, id)) - max) / sum;
    store<f32>(at4(dr, id), (p - 1) * scale);
  }
}
