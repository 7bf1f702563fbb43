/** The optimizer step and the gradient-norm reduction it uses for clipping (f32, in place). */
import { KernelError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { expectSameBackend, expectTensor } from './check.js';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (p -= lr · weightDecay · p); 0 gives plain Adam. */
  weightDecay: number;
  /** 1-based step number t, for the bias corrections 1 - β^t. */
  step: number;
  /** Multiplies the gradient first: the clip factor min(1, maxNorm / ‖g‖) of gradient-norm clipping. Default 1. */
  gradScale?: number;
}

function sameSize(op: string, tensors: readonly (readonly [string, Tensor])[]): number {
  const size = (tensors[0] as readonly [string, Tensor])[1].size;
  for (const [name, t] of tensors) {
    expectTensor(
      op,
      name,
      t,
      t.shape.map((_, i) => `d${i}`),
      ['f32'],
    );
    if (t.size !== size) throw new KernelError(`${op}: ${name} has ${t.size} elements, expected ${size}`);
  }
  return size;
}

/** One AdamW step: updates param, m and v in place from grad (all f32 with the same number of elements). */
export function adamwStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWOptions): void {
  const backend = expectSameBackend('adamwStep', [param, grad, m, v]);
  const size = sameSize('adamwStep', [
    ['param', param],
    ['grad', grad],
    ['m', m],
    ['v', v],
  ]);
  const { lr, beta1, beta2, eps, weightDecay, step } = options;
  const gradScale = options.gradScale ?? 1;
  if (!Number.isInteger(step) || step < 1)
    throw new KernelError(`adamwStep: step must be an integer >= 1, got ${step}`);
  for (const [name, value] of Object.entries({ lr, beta1, beta2, eps, weightDecay, gradScale })) {
    if (!Number.isFinite(value)) throw new KernelError(`adamwStep: ${name} must be finite, got ${value}`);
  }
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
    throw new KernelError(`adamwStep: beta1 and beta2 must be in [0, 1), got ${beta1}, ${beta2}`);
  }
  backend.dispatch('adamwStep', [grad], [param, m, v], {
    size,
    lr,
    beta1,
    beta2,
    eps,
    weightDecay,
    bias1: 1 - beta1 ** step,
    bias2: 1 - beta2 ** step,
    gradScale,
  });
}

/** Elements per partial sum of sumSquares' first pass, and the most partials it makes. */
const SUM_SQUARES_CHUNK = 4096;
const SUM_SQUARES_MAX_PARTIALS = 1024;

/**
 * Σ x² over all of x, as an f32 [1] tensor. With `into` (an f32 [1]), adds to it and returns it:
 * one tensor collects the squared norm of every gradient, read back once per step for clipping.
 */
export function sumSquares(x: Tensor, options: { into?: Tensor } = {}): Tensor {
  const backend = expectSameBackend('sumSquares', options.into ? [x, options.into] : [x]);
  sameSize('sumSquares', [['x', x]]);
  if (options.into) {
    expectTensor('sumSquares', 'into', options.into, ['1'], ['f32']);
    if (options.into.size !== 1)
      throw new KernelError(`sumSquares: into must have shape [1], got [${options.into.shape}]`);
  }
  const out = options.into ?? backend.allocate('f32', [1]);
  const partials = Math.min(SUM_SQUARES_MAX_PARTIALS, Math.max(1, Math.ceil(x.size / SUM_SQUARES_CHUNK)));
  const scratch = backend.allocate('f32', [partials]);
  backend.dispatch('sumSquares', [x], [out, scratch], {
    size: x.size,
    partials,
    accumulate: options.into !== undefined,
  });
  scratch.dispose();
  return out;
}
