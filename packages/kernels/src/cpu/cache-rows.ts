import type { Tensor } from '../tensor.js';
import { i32 } from './views.js';

/**
 * Row b's cache slot and first position: from the per-row (slot, startPos) pairs when the op was
 * given CacheRows, else the one window's slot + b and startPos.
 */
export function rowPlacement(
  rows: Tensor | undefined,
  p: { startPos: number; slot?: number },
): (b: number) => { slot: number; startPos: number } {
  if (!rows) return (b) => ({ slot: (p.slot ?? 0) + b, startPos: p.startPos });
  const pairs = i32(rows);
  return (b) => ({ slot: pairs[2 * b] as number, startPos: pairs[2 * b + 1] as number });
}
