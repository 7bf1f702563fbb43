import type { Tensor } from '../../tensor.js';
import { expectCacheWindow, expectEqual, expectSameBackend, expectTensor } from '../check.js';

export interface CachePosition {
  /** Position of the first new token. */
  startPos: number;
  /** Cache slot of the first sequence in the batch (sequence b uses slot + b). Default 0. */
  slot?: number;
}

type Shape4 = [number, number, number, number];

/** Writes values [B, T, Hkv, Dh] into cache [S, L, Hkv, Dh] at positions startPos.., slots slot... */
export function kvWrite(cache: Tensor, values: Tensor, at: CachePosition): void {
  const backend = expectSameBackend('kvWrite', [cache, values]);
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
  const slot = at.slot ?? 0;
  expectCacheWindow('kvWrite', at.startPos, tokens, maxSeqLen, slot, batch, slots);
  backend.dispatch(
    'kvWrite',
    { values },
    { cache },
    {
      batch,
      tokens,
      kvHeads,
      headDim,
      startPos: at.startPos,
      slot,
      maxSeqLen,
    },
  );
}
