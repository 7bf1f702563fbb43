import { at4, partStart } from '../../wasm/kernels/common.as';

/**
 * Copies values [B, T, Hkv·Dh] into cache rows (slot + b, startPos + t), or with `placements` (i32
 * (slot, startPos) pairs of CacheRows; 0 when absent) into (slot_b, startPos_b + t); the B·T rows
 * split across threads.
 */
export function kvWrite(
  tid: i32,
  nthreads: i32,
  values: usize,
  cache: usize,
  batch: i32,
  tokens: i32,
  rowSize: i32,
  startPos: i32,
  slot: i32,
  maxSeqLen: i32,
  placements: usize,
): void {
  const rows = batch * tokens;
  const first = partStart(tid, nthreads, rows, 1);
  const last = partStart(tid + 1, nthreads, rows, 1);
  for (let r = first; r < last; r++) {
    const b = r / tokens;
    const t = r % tokens;
    const rowSlot = placements ? load<i32>(placements + (<usize>b << 3)) : slot + b;
    const rowStart = placements ? load<i32>(placements + (<usize>b << 3) + 4) : startPos;
    const target = (rowSlot * maxSeqLen + rowStart + t) * rowSize;
    memory.copy(at4(cache, target), at4(values, r * rowSize), (<usize>rowSize) << 2);
  }
}
