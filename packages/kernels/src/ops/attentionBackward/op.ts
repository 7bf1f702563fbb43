import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { expectEqual, expectSameBackend, expectTensor } from '../check.js';

type Shape4 = [number, number, number, number];

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
  backend.dispatch(
    'attentionBackward',
    { q, k, v, dOut },
    { dQ, dK, dV, stats },
    {
      batch,
      tokens,
      heads,
      kvHeads,
      headDim,
      scale: 1 / Math.sqrt(headDim),
    },
  );
  stats.dispose();
  return { dQ, dK, dV };
}
