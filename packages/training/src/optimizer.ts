/**
 * Adam / AdamW over a model's parameter tensors: the moments on the device, global gradient-norm
 * clipping, and which parameters weight decay applies to.
 */

import { adamwStep, type Backend, fromArray, sumSquares, type Tensor, zeros } from '@llama-ts/kernels';
import { TrainingError } from './errors.js';
import type { OptimizerConfig } from './presets.js';
import type { OptimizerMoments } from './resume-state.js';

/**
 * Whether decoupled weight decay applies to a parameter: the 2-D matrices of the attention, the
 * feed-forward and the output projection, but not the norm weights (a gain of 1 is their neutral
 * value, not 0) and not the embedding table. The embedding is left out because its rows only get a
 * gradient when their token occurs in the batch while decay shrinks every row at every step, so
 * rare characters would be pulled towards zero by the optimiser rather than by the data.
 */
export function decaysWeight(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && name !== 'tok_embeddings.weight';
}

/** The factor gradients are scaled by so that their global norm is at most `maxNorm` (1 when it already is). */
export function clipScale(norm: number, maxNorm: number | null): number {
  if (maxNorm === null) return 1;
  return norm > maxNorm ? maxNorm / norm : 1;
}

/** Checks an optimiser configuration; throws a TrainingError naming the first bad field. */
export function validateOptimizer(config: OptimizerConfig, what = 'optimizer'): void {
  const { kind, beta1, beta2, eps, weightDecay } = config;
  if (kind !== 'adam' && kind !== 'adamw') {
    throw new TrainingError(`${what}.kind must be 'adam' or 'adamw', got ${JSON.stringify(kind)}`);
  }
  for (const [name, value] of [
    ['beta1', beta1],
    ['beta2', beta2],
  ] as const) {
    if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
      throw new TrainingError(`${what}.${name} must be a number in [0, 1), got ${String(value)}`);
    }
  }
  if (typeof eps !== 'number' || !(eps > 0 && Number.isFinite(eps))) {
    throw new TrainingError(`${what}.eps must be a positive number, got ${String(eps)}`);
  }
  if (typeof weightDecay !== 'number' || !(weightDecay >= 0 && Number.isFinite(weightDecay))) {
    throw new TrainingError(`${what}.weightDecay must be a number >= 0, got ${String(weightDecay)}`);
  }
  if (kind === 'adam' && weightDecay !== 0) {
    // torch.optim.Adam's weight_decay is an L2 term added to the gradient, which this optimiser
    // does not implement; refusing beats silently training something else.
    throw new TrainingError(
      `${what}.weightDecay must be 0 for kind 'adam' (got ${weightDecay}); use kind 'adamw' for decoupled weight decay`,
    );
  }
}

/**
 * The global L2 norm of all `gradients`: every tensor's sum of squares accumulated into one
 * device scalar, read back once.
 */
export async function globalGradNorm(backend: Backend, gradients: Iterable<Tensor>): Promise<number> {
  const total = zeros(backend, [1]);
  try {
    for (const g of gradients) sumSquares(g, { into: total });
    const [sum] = await total.toFloat32();
    return Math.sqrt(sum ?? Number.NaN);
  } finally {
    total.dispose();
  }
}

export interface StepOptions {
  lr: number;
  /** Multiplies every gradient first (the clip factor); default 1. */
  gradScale?: number;
}

/**
 * Adam's state for a set of named parameters: m and v on the device, and the number of updates
 * done (the bias-correction step). kind 'adam' is the same update with no weight decay.
 */
export class AdamW {
  readonly #m = new Map<string, Tensor>();
  readonly #v = new Map<string, Tensor>();
  readonly #decay = new Map<string, number>();
  #step: number;

  constructor(
    readonly backend: Backend,
    readonly params: ReadonlyMap<string, Tensor>,
    readonly config: OptimizerConfig,
    /** Saved moments and the updates they have seen, to continue a run; zeros and 0 otherwise. */
    resume?: { moments: OptimizerMoments; step: number },
  ) {
    validateOptimizer(config);
    if (resume && !(Number.isInteger(resume.step) && resume.step >= 0)) {
      throw new TrainingError(`AdamW: resume.step must be an integer >= 0, got ${resume.step}`);
    }
    this.#step = resume?.step ?? 0;
    const weightDecay = config.kind === 'adamw' ? config.weightDecay : 0;
    for (const [name, p] of params) {
      for (const [kind, into] of [
        ['m', this.#m],
        ['v', this.#v],
      ] as const) {
        const saved = resume?.moments[kind].get(name);
        if (resume && !saved) throw new TrainingError(`AdamW: the saved moments have no ${kind} for ${name}`);
        if (saved && saved.length !== p.size) {
          throw new TrainingError(`AdamW: saved ${kind} of ${name} has ${saved.length} values, expected ${p.size}`);
        }
        into.set(name, saved ? fromArray(backend, saved, p.shape) : zeros(backend, p.shape));
      }
      this.#decay.set(name, decaysWeight(name, p.shape) ? weightDecay : 0);
    }
  }

  /** Updates done so far. */
  get step(): number {
    return this.#step;
  }

  /** One update of every parameter from `gradients` (same names), in place. */
  update(gradients: ReadonlyMap<string, Tensor>, { lr, gradScale = 1 }: StepOptions): void {
    const step = this.#step + 1;
    const { beta1, beta2, eps } = this.config;
    for (const [name, p] of this.params) {
      const g = gradients.get(name);
      if (!g) throw new TrainingError(`AdamW.update: no gradient for ${name}`);
      adamwStep(p, g, this.#m.get(name) as Tensor, this.#v.get(name) as Tensor, {
        lr,
        beta1,
        beta2,
        eps,
        weightDecay: this.#decay.get(name) as number,
        step,
        gradScale,
      });
    }
    this.#step = step;
  }

  /** The moments read back from the device (for a checkpoint). */
  async moments(): Promise<OptimizerMoments> {
    const read = async (from: Map<string, Tensor>) => {
      const out = new Map<string, Float32Array>();
      for (const [name, t] of from) out.set(name, await t.toFloat32());
      return out;
    };
    return { m: await read(this.#m), v: await read(this.#v) };
  }

  dispose(): void {
    for (const t of [...this.#m.values(), ...this.#v.values()]) t.dispose();
  }
}
