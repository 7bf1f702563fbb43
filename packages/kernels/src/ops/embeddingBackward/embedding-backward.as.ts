import { at4, partStart } from '../../wasm/kernels/common.as';

/**
 * dTable[v] (+)= Σ_{t: ids[t] = v} dY[t]. Each thread owns a range of columns of every row, so no
 * two threads write the same element; sums are in token order, as the reference's.
 */
export function embeddingBackward(
  tid: i32,
  nthreads: i32,
  ids: usize,
  dY: usize,
  dTable: usize,
  tokens: i32,
  vocab: i32,
  dim: i32,
  accumulate: i32,
): void {
  const start = partStart(tid, nthreads, dim, 4);
  const end = partStart(tid + 1, nthreads, dim, 4);
  if (start >= end) return;
  const bytes = (<usize>(end - start)) << 2;
  if (!accumulate) {
    for (let v = 0; v < vocab; v++) memory.fill(at4(dTable, v * dim + start), 0, bytes);
  }
  for (let t = 0; t < tokens; t++) {
    const id = load<i32>(at4(ids, t));
    if (id < 0 || id >= vocab) continue;
    const out = at4(dTable, id * dim);
    const g = at4(dY, t * dim);
    let d = start;
    for (; d + 4 <= end; d += 4) v128.store(at4(out, d), f32x4.add(v128.load(at4(out, d)), v128.load(at4(g, d))));
    for (; d < end; d++) store<f32>(at4(out, d), load<f32>(at4(out, d)) + load<f32>(at4(g, d)));
  }
}
