import { at4, partStart } from '../../wasm/kernels/common.as';

/** Copies values [B, T, Hkv·Dh] into cache rows (slot + b, startPos + t); the B·T rows split across threads. */
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
): void {
  const rows = batch * tokens;
  const first = partStart(tid, nthreads, rows, 1);
  const last = partStart(tid + 1, nthreads, rows, 1);
  for (let r = first; r < last; r++) {
    const b = r / tokens;
    const t = r % tokens;
    const target = ((slot + b) * maxSeqLen + startPos + t) * rowSize;
    memory.copy(at4(cache, target), at4(values, r * rowSize), (<usize>rowSize) << 2);
  }
}
