/**
 * Backward ops for training (f32 only). Each returns the gradients of one forward op's inputs given
 * the gradient of its output. Weight gradients take `into`: an existing gradient to add into
 * (gradient accumulation across micro-batches) instead of a fresh tensor.
 */
import { KernelError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { expectEqual, expectSameBackend, expectTensor } from './check.js';

export interface AccumulateOptions {
  /** Add the gradient into this tensor (same shape) and return it, instead of allocating a new one. */
  into?: Tensor;
}

function target(op: string, into: Tensor | undefined, shape: readonly number[], backend: Tensor['backend']): Tensor {
  if (!into) return backend.allocate('f32', shape);
  if (into.backend !== backend) throw new KernelError(`${op}: all tensors must live on the same backend`);
  expectTensor(
    op,
    'into',
    into,
    shape.map((d) => String(d)),
    ['f32'],
  );
  if (into.shape.some((d, i) => d !== shape[i])) {
    throw new KernelError(`${op}: into has shape [${into.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return into;
}

/** dX [M, K] = dY [M, N] · W [N, K]: the input gradient of y = x · wᵀ. */
export function matmulGradInput(dY: Tensor, w: Tensor): Tensor {
  const backend = expectSameBackend('matmulGradInput', [dY, w]);
  const [M, N] = expectTensor('matmulGradInput', 'dY', dY, ['M', 'N'], ['f32']) as [number, number];
  const [wN, K] = expectTensor('matmulGradInput', 'w', w, ['N', 'K'], ['f32']) as [number, number];
  expectEqual('matmulGradInput', 'w.shape[0] (N)', wN, N);
  const dX = backend.allocate('f32', [M, K]);
  backend.dispatch('matmulGradInput', [dY, w], [dX], { M, N, K });
  return dX;
}

/** dW [N, K] (+)= dYᵀ · X for dY [M, N], x [M, K]: the weight gradient of y = x · wᵀ. */
export function matmulGradWeight(dY: Tensor, x: Tensor, options: AccumulateOptions = {}): Tensor {
  const backend = expectSameBackend('matmulGradWeight', [dY, x]);
  const [M, N] = expectTensor('matmulGradWeight', 'dY', dY, ['M', 'N'], ['f32']) as [number, number];
  const [xM, K] = expectTensor('matmulGradWeight', 'x', x, ['M', 'K'], ['f32']) as [number, number];
  expectEqual('matmulGradWeight', 'x.shape[0] (M)', xM, M);
  const dW = target('matmulGradWeight', options.into, [N, K], backend);
  backend.dispatch('matmulGradWeight', [dY, x], [dW], { M, N, K, accumulate: options.into !== undefined });
  return dW;
}

/**
 * Softmax cross-entropy of logits [R, V] against targets i32 [R], with its gradient: loss [R]
 * (-log softmax[target]) and dLogits [R, V] = (softmax - onehot(target)) · scale. Rows whose target
 * is negative (padding) or ≥ V get loss 0 and zero gradient. `scale` defaults to 1 / R; pass
 * 1 / (number of counted rows) for the gradient of the mean loss over the counted rows.
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: { scale?: number } = {},
): { loss: Tensor; dLogits: Tensor } {
  const backend = expectSameBackend('crossEntropy', [logits, targets]);
  const [rows, cols] = expectTensor('crossEntropy', 'logits', logits, ['R', 'V'], ['f32']) as [number, number];
  const [targetRows] = expectTensor('crossEntropy', 'targets', targets, ['R'], ['i32']) as [number];
  expectEqual('crossEntropy', 'targets.shape[0] (R)', targetRows, rows);
  const scale = options.scale ?? 1 / Math.max(1, rows);
  if (!Number.isFinite(scale)) throw new KernelError(`crossEntropy: scale must be finite, got ${scale}`);
  const loss = backend.allocate('f32', [rows]);
  const dLogits = backend.allocate('f32', [rows, cols]);
  backend.dispatch('crossEntropy', [logits, targets], [loss, dLogits], { rows, cols, scale });
  return { loss, dLogits };
}

/** The backward of rmsNorm(x [R, D], weight [D], eps): dX [R, D] and dWeight [D] (summed over rows). */
export function rmsNormBackward(
  x: Tensor,
  weight: Tensor,
  dY: Tensor,
  eps: number,
  options: AccumulateOptions = {},
): { dX: Tensor; dWeight: Tensor } {
  const backend = expectSameBackend('rmsNormBackward', [x, weight, dY]);
  const [rows, dim] = expectTensor('rmsNormBackward', 'x', x, ['R', 'D'], ['f32']) as [number, number];
  const [wDim] = expectTensor('rmsNormBackward', 'weight', weight, ['D'], ['f32']) as [number];
  expectEqual('rmsNormBackward', 'weight.shape[0] (D)', wDim, dim);
  const [dRows, dDim] = expectTensor('rmsNormBackward', 'dY', dY, ['R', 'D'], ['f32']) as [number, number];
  expectEqual('rmsNormBackward', 'dY.shape[0] (R)', dRows, rows);
  expectEqual('rmsNormBackward', 'dY.shape[1] (D)', dDim, dim);
  const dX = backend.allocate('f32', [rows, dim]);
  const dWeight = target('rmsNormBackward', options.into, [dim], backend);
  const rstd = backend.allocate('f32', [rows]);
  backend.dispatch('rmsNormBackward', [x, weight, dY], [dX, dWeight, rstd], {
    rows,
    dim,
    eps,
    accumulate: options.into !== undefined,
  });
  rstd.dispose();
  return { dX, dWeight };
}

/** The backward of swiglu(a, b) = silu(a) · b: dA = dY · b · silu'(a), dB = dY · silu(a). */
export function swigluBackward(a: Tensor, b: Tensor, dY: Tensor): { dA: Tensor; dB: Tensor } {
  const backend = expectSameBackend('swigluBackward', [a, b, dY]);
  for (const [name, t] of [
    ['a', a],
    ['b', b],
    ['dY', dY],
  ] as const) {
    expectTensor(
      'swigluBackward',
      name,
      t,
      a.shape.map((_, i) => `d${i}`),
      ['f32'],
    );
    if (t.shape.some((d, i) => d !== a.shape[i])) {
      throw new KernelError(
        `swigluBackward: ${name} [${t.shape.join(', ')}] must have a's shape [${a.shape.join(', ')}]`,
      );
    }
  }
  const dA = backend.allocate('f32', a.shape);
  const dB = backend.allocate('f32', a.shape);
  backend.dispatch('swigluBackward', [a, b, dY], [dA, dB], { size: a.size });
  return { dA, dB };
}

/**
 * The backward of embedding: dTable [V, D] (+)= the rows of dY [T, D] summed by token id (ids i32 [T];
 * ids outside 0..V-1 contribute nothing). On WebGPU this costs O(V·D·T): meant for small vocabularies.
 */
export function embeddingBackward(ids: Tensor, dY: Tensor, vocab: number, options: AccumulateOptions = {}): Tensor {
  const backend = expectSameBackend('embeddingBackward', [ids, dY]);
  const [tokens] = expectTensor('embeddingBackward', 'ids', ids, ['T'], ['i32']) as [number];
  const [dTokens, dim] = expectTensor('embeddingBackward', 'dY', dY, ['T', 'D'], ['f32']) as [number, number];
  expectEqual('embeddingBackward', 'dY.shape[0] (T)', dTokens, tokens);
  if (!Number.isInteger(vocab) || vocab < 0) {
    throw new KernelError(`embeddingBackward: vocab must be a non-negative integer, got ${vocab}`);
  }
  const dTable = target('embeddingBackward', options.into, [vocab, dim], backend);
  backend.dispatch('embeddingBackward', [ids, dY], [dTable], {
    tokens,
    vocab,
    dim,
    accumulate: options.into !== undefined,
  });
  return dTable;
}
