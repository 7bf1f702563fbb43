import { at4, f16ToF32, f16ToF32x4, partStart } from '../../wasm/kernels/common.as';

// Row gathers, one export per table dtype; the tokens split across threads. An id outside
// 0..vocab-1 gives a zero row.

export function embeddingF32(tid: i32, nthreads: i32, table: usize, ids: usize, y: usize, tokens: i32, vocab: i32, dim: i32): void {
  const first = partStart(tid, nthreads, tokens, 1);
  const last = partStart(tid + 1, nthreads, tokens, 1);
  const rowBytes = (<usize>dim) << 2;
  for (let t = first; t < last; t++) {
    const id = load<i32>(at4(ids, t));
    const out = at4(y, t * dim);
    if (id < 0 || id >= vocab) memory.fill(out, 0, rowBytes);
    else memory.copy(out, table + <usize>id * rowBytes, rowBytes);
  }
}

export function embeddingF16(tid: i32, nthreads: i32, table: usize, ids: usize, y: usize, tokens: i32, vocab: i32, dim: i32): void {
  const first = partStart(tid, nthreads, tokens, 1);
  const last = partStart(tid + 1, nthreads, tokens, 1);
  for (let t = first; t < last; t++) {
    const id = load<i32>(at4(ids, t));
    const out = at4(y, t * dim);
    if (id < 0 || id >= vocab) {
      memory.fill(out, 0, (<usize>dim) << 2);
      continue;
    }
    const row = table + ((<usize>id * <usize>dim) << 1);
    let d = 0;
    for (; d + 4 <= dim; d += 4) v128.store(at4(out, d), f16ToF32x4(v128.load16x4_u(row + ((<usize>d) << 1))));
    for (; d < dim; d++) store<f32>(at4(out, d), f16ToF32(<u32>load<u16>(row + ((<usize>d) << 1))));
  }
}

/** q8_0: the int8 quants at `table`, the f16 scales (one per 32 elements) at `scales`. */
export function embeddingQ8_0(
  tid: i32,
  nthreads: i32,
  table: usize,
  scales: usize,
  ids: usize,
  y: usize,
  tokens: i32,
  vocab: i32,
  dim: i32,
): void {
  const first = partStart(tid, nthreads, tokens, 1);
  const last = partStart(tid + 1, nthreads, tokens, 1);
  for (let t = first; t < last; t++) {
    const id = load<i32>(at4(ids, t));
    const out = at4(y, t * dim);
    if (id < 0 || id >= vocab) {
      memory.fill(out, 0, (<usize>dim) << 2);
      continue;
    }
    const row = table + <usize>id * <usize>dim;
    const rowScales = scales + ((<usize>id * <usize>(dim >> 5)) << 1);
    for (let block = 0; block < dim >> 5; block++) {
      const d = f32x4.splat(f16ToF32(<u32>load<u16>(rowScales + ((<usize>block) << 1))));
      const q = row + ((<usize>block) << 5);
      const o = out + ((<usize>block) << 7);
      for (let k = 0; k < 32; k += 8) {
        const q16 = i16x8.extend_low_i8x16_s(v128.load64_zero(q + <usize>k));
        v128.store(o + ((<usize>k) << 2), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q16)), d));
        v128.store(o + ((<usize>k) << 2) + 16, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q16)), d));
      }
    }
  }
}
