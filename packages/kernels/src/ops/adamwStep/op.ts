import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { expectSameBackend, expectSameSize } from '../check.js';

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

/** One AdamW step: updates param, m and v in place from grad (all f32 with the same number of elements). */
export function adamwStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWOptions): void {
  const backend = expectSameBackend('adamwStep', [param, grad, m, v]);
  const size = expectSameSize('adamwStep', [
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
  backend.dispatch(
    'adamwStep',
    { grad },
    { param, m, v },
    {
      size,
      lr,
      beta1,
      beta2,
      eps,
      weightDecay,
      bias1: 1 - beta1 ** step,
      bias2: 1 - beta2 ** step,
      gradScale,
    },
  );
}
