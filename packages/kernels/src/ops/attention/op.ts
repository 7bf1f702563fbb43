import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { expectEqual, expectSameBackend, expectTensor } from '../check.js';
import { CacheRows } from '../kvWrite/cache-rows.js';
import { type CachePosition, rowsOrWindow } from '../kvWrite/op.js';

type Shape4 = [number, number, number, number];

/**
 * Causal grouped-query attention of q [B, T, H, Dh] over the cached keys and values (which must
 * already hold the new tokens: call kvWrite first), at one window of positions and slots or, given
 * CacheRows, each row at its own. Returns [B, T, H, Dh].
 */
export function attention(q: Tensor, kCache: Tensor, vCache: Tensor, at: CachePosition | CacheRows): Tensor {
  const rows = at instanceof CacheRows ? at : undefined;
  const backend = expectSameBackend('attention', rows ? [q, kCache, vCache, rows.tensor] : [q, kCache, vCache]);
  const [batch, tokens, heads, headDim] = expectTensor('attention', 'q', q, ['B', 'T', 'H', 'Dh'], ['f32']) as Shape4;
  const [slots, maxSeqLen, kvHeads, kDim] = expectTensor(
    'attention',
    'kCache',
    kCache,
    ['S', 'L', 'Hkv', 'Dh'],
    ['f32'],
  ) as Shape4;
  expectTensor('attention', 'vCache', vCache, ['S', 'L', 'Hkv', 'Dh'], ['f32']);
  if (vCache.shape.some((d, i) => d !== kCache.shape[i])) {
    throw new KernelError(
      `attention: vCache [${vCache.shape.join(', ')}] must match kCache [${kCache.shape.join(', ')}]`,
    );
  }
  expectEqual('attention', 'kCache.shape[3] (Dh)', kDim, headDim);
  if (heads % kvHeads !== 0) {
    throw new KernelError(`attention: query heads (${heads}) must be a multiple of kv heads (${kvHeads})`);
  }
  const position = rowsOrWindow('attention', at, batch, tokens, maxSeqLen, slots);
  const y = backend.allocate('f32', q.shape);
  backend.dispatch(
    'attention',
    rows ? { q, kCache, vCache, rows: rows.tensor } : { q, kCache, vCache },
    { y },
    {
      batch,
      tokens,
      heads,
      kvHeads,
      headDim,
      ...position,
      maxSeqLen,
      scale: 1 / Math.sqrt(headDim),
    },
  );
  return y;
}
