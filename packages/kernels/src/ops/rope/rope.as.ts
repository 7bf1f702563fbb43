import { at4, partStart } from '../../wasm/kernels/common.as';

/**
 * Rotary embedding from the (cos, sin) table, per head vector (the B·T·H vectors split across
 * threads). Pairs (2j, 2j+1) when `interleaved`, else (j, j + Dh/2); `inverse` negates sin.
 * `rows` (0 when absent): i32 (slot, startPos) pairs, row b's tokens at its own startPos.
 */
export function rope(
  tid: i32,
  nthreads: i32,
  x: usize,
  table: usize,
  y: usize,
  batch: i32,
  tokens: i32,
  heads: i32,
  headDim: i32,
  startPos: i32,
  interleaved: i32,
  inverse: i32,
  rows: usize,
): void {
  const vectors = batch * tokens * heads;
  const first = partStart(tid, nthreads, vectors, 1);
  const last = partStart(tid + 1, nthreads, vectors, 1);
  const half = headDim >> 1;
  const sign: f32 = inverse ? -1 : 1;
  for (let vec = first; vec < last; vec++) {
    const t = (vec / heads) % tokens;
    const start = rows ? load<i32>(rows + ((<usize>(vec / (heads * tokens)) << 3) + 4)) : startPos;
    const angles = at4(table, (start + t) * half * 2);
    const base = vec * headDim;
    for (let j = 0; j < half; j++) {
      const i0 = base + (interleaved ? 2 * j : j);
      const i1 = base + (interleaved ? 2 * j + 1 : j + half);
      const cos = load<f32>(at4(angles, 2 * j));
      const sin = sign * load<f32>(at4(angles, 2 * j + 1));
      const x0 = load<f32>(at4(x, i0));
      const x1 = load<f32>(at4(x, i1));
      store<f32>(at4(y, i0), x0 * cos - x1 * sin);
      store<f32>(at4(y, i1), x0 * sin + x1 * cos);
    }
  }
}
