import { KernelError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { expectEqual, expectInteger, expectSameBackend, expectTensor } from './check.js';

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
  checkWindow('kvWrite', at.startPos, tokens, maxSeqLen, slot, batch, slots);
  backend.dispatch('kvWrite', [values], [cache], {
    batch,
    tokens,
    kvHeads,
    headDim,
    startPos: at.startPos,
    slot,
    maxSeqLen,
  });
}

/**
 * Causal grouped-query attention of q [B, T, H, Dh] over the cached keys and values (which must
 * already hold the new tokens: call kvWrite first). Returns [B, T, H, Dh].
 */
export function attention(q: Tensor, kCache: Tensor, vCache: Tensor, at: CachePosition): Tensor {
  const backend = expectSameBackend('attention', [q, kCache, vCache]);
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
  const slot = at.slot ?? 0;
  checkWindow('attention', at.startPos, tokens, maxSeqLen, slot, batch, slots);
  const y = backend.allocate('f32', q.shape);
  backend.dispatch('attention', [q, kCache, vCache], [y], {
    batch,
    tokens,
    heads,
    kvHeads,
    headDim,
    startPos: at.startPos,
    slot,
    maxSeqLen,
    scale: 1 / Math.sqrt(headDim),
  });
  return y;
}

function checkWindow(
  op: string,
  startPos: number,
  tokens: number,
  maxSeqLen: number,
  slot: number,
  batch: number,
  slots: number,
) {
  expectInteger(op, 'startPos', startPos, 0);
  if (startPos + tokens > maxSeqLen) {
    throw new KernelError(
      `${op}: positions ${startPos}..${startPos + tokens - 1} do not fit a cache of ${maxSeqLen} positions`,
    );
  }
  expectInteger(op, 'slot', slot, 0);
  if (slot + batch > slots) {
    throw new KernelError(`${op}: slots ${slot}..${slot + batch - 1} do not fit a cache of ${slots} slots`);
  }
}

export interface AttentionGradients {
  dQ: Tensor;
  dK: Tensor;
  dV: Tensor;
}

/**
 * Gradients of causal GQA attention over a whole sequence (as in training: q, k, v of one batch,
 * startPos 0) given the gradient of its output. Keys and values are [B, T, Hkv, Dh].
 */
export function attentionBackward(q: Tensor, k: Tensor, v: Tensor, dOut: Tensor): AttentionGradients {
  const backend = expectSameBackend('attentionBackward', [q, k, v, dOut]);
  const [batch, tokens, heads, headDim] = expectTensor(
    'attentionBackward',
    'q',
    q,
    ['B', 'T', 'H', 'Dh'],
    ['f32'],
  ) as Shape4;
  const [kB, kT, kvHeads, kD] = expectTensor('attentionBackward', 'k', k, ['B', 'T', 'Hkv', 'Dh'], ['f32']) as Shape4;
  expectEqual('attentionBackward', 'k.shape[0] (B)', kB, batch);
  expectEqual('attentionBackward', 'k.shape[1] (T)', kT, tokens);
  expectEqual('attentionBackward', 'k.shape[3] (Dh)', kD, headDim);
  for (const [name, t, shape] of [
    ['v', v, k.shape],
    ['dOut', dOut, q.shape],
  ] as const) {
    expectTensor('attentionBackward', name, t, ['B', 'T', 'H', 'Dh'], ['f32']);
    if (t.shape.some((d, i) => d !== shape[i])) {
      throw new KernelError(
        `attentionBackward: ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`,
      );
    }
  }
  if (heads % kvHeads !== 0) {
    throw new KernelError(`attentionBackward: query heads (${heads}) must be a multiple of kv heads (${kvHeads})`);
  }
  const dQ = backend.allocate('f32', q.shape);
  const dK = backend.allocate('f32', k.shape);
  const dV = backend.allocate('f32', v.shape);
  const stats = backend.allocate('f32', [batch, tokens, heads, 2]);
  backend.dispatch('attentionBackward', [q, k, v, dOut], [dQ, dK, dV, stats], {
    batch,
    tokens,
    heads,
    kvHeads,
    headDim,
    scale: 1 / Math.sqrt(headDim),
  });
  stats.dispose();
  return { dQ, dK, dV };
}
