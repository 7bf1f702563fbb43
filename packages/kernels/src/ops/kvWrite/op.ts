import type { Tensor } from '../../tensor.js';
import { expectCacheWindow, expectEqual, expectSameBackend, expectTensor } from '../check.js';
import { CacheRows } from './cache-rows.js';

export interface CachePosition {
  /** Position of the first new token. */
  startPos: number;
  /** Cache slot of the first sequence in the batch (sequence b uses slot + b). Default 0. */
  slot?: number;
}

type Shape4 = [number, number, number, number];

/**
 * Writes values [B, T, Hkv, Dh] into cache [S, L, Hkv, Dh] at positions startPos.., slots slot..
 * (or, given CacheRows, row b at its own slot and positions).
 */
export function kvWrite(cache: Tensor, values: Tensor, at: CachePosition | CacheRows): void {
  const rows = at instanceof CacheRows ? at : undefined;
  const backend = expectSameBackend('kvWrite', rows ? [cache, values, rows.tensor] : [cache, values]);
  const [slots, maxSeqLen, kvHeads, headDim] = expectTensor(
    'kvWrite',
    'cache',
    cache,
    ['S', 'L', 'Hkv', 'Dh'],
    ['f32'],
  ) as Shape4;
  const [batch, tokens, vHeads, vDim] = expectTensor(
    'kvWrite',
    'values',
    values,
    ['B', 'T', 'Hkv', 'Dh'],
    ['f32'],
  ) as Shape4;
  expectEqual('kvWrite', 'values.shape[2] (Hkv)', vHeads, kvHeads);
  expectEqual('kvWrite', 'values.shape[3] (Dh)', vDim, headDim);
  const position = rowsOrWindow('kvWrite', at, batch, tokens, maxSeqLen, slots);
  backend.dispatch(
    'kvWrite',
    rows ? { values, rows: rows.tensor } : { values },
    { cache },
    {
      batch,
      tokens,
      kvHeads,
      headDim,
      ...position,
      maxSeqLen,
    },
  );
}

/**
 * Checks a batch's cache positions (one window, or each row's) and returns the kernels' scalar
 * startPos and slot: the window's, or for rows the largest startPos (which sizes scratch) and 0.
 */
export function rowsOrWindow(
  op: string,
  at: CachePosition | CacheRows,
  batch: number,
  tokens: number,
  maxSeqLen: number,
  slots: number,
): { startPos: number; slot: number } {
  if (at instanceof CacheRows) {
    at.check(op, batch, tokens, maxSeqLen, slots);
    return { startPos: at.maxStartPos, slot: 0 };
  }
  const slot = at.slot ?? 0;
  expectCacheWindow(op, at.startPos, tokens, maxSeqLen, slot, batch, slots);
  return { startPos: at.startPos, slot };
}
