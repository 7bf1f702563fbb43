/**
 * Parameters of a fresh model, from a seeded RNG, as Float32Arrays keyed by Meta's tensor names
 * with the shapes `expectedShapes(args)` gives, in the order of Meta's `Transformer.state_dict()`.
 */

import { expectedShapes, type ModelArgs } from '@llama-ts/model';
import { TrainingError } from './errors.js';
import { TrainingRng } from './rng.js';

/**
 * - 'torch-default': what the reference recipe gets from PyTorch's module defaults: every
 *   nn.Linear weight (wq, wk, wv, wo, w1, w2, w3, output) uniform in ±1/√fan_in
 *   (kaiming_uniform_ with a = √5), the nn.Embedding N(0, 1), norms 1.
 * - 'normal': GPT-2 / nanoGPT style: every matrix (embedding included) N(0, std), with the
 *   residual projections wo and w2 at std / √(2 × n_layers) when `scaleResidual`; norms 1.
 */
export type InitScheme = { kind: 'torch-default' } | { kind: 'normal'; std: number; scaleResidual: boolean };

export const TORCH_DEFAULT_INIT: InitScheme = Object.freeze({ kind: 'torch-default' });
export const GPT2_INIT: InitScheme = Object.freeze({ kind: 'normal', std: 0.02, scaleResidual: true });

export interface ParameterSpec {
  name: string;
  shape: number[];
}

const LAYER_ORDER = [
  'attention.wq.weight',
  'attention.wk.weight',
  'attention.wv.weight',
  'attention.wo.weight',
  'feed_forward.w1.weight',
  'feed_forward.w2.weight',
  'feed_forward.w3.weight',
  'attention_norm.weight',
  'ffn_norm.weight',
] as const;

/** Every parameter of a model with these args, in Meta's state_dict order, with its shape. */
export function parameterSpecs(args: ModelArgs): ParameterSpec[] {
  const shapes = expectedShapes(args);
  const names = ['tok_embeddings.weight'];
  for (let i = 0; i < args.nLayers; i++) names.push(...LAYER_ORDER.map((suffix) => `layers.${i}.${suffix}`));
  names.push('norm.weight', 'output.weight');
  if (names.length !== shapes.size || !names.every((name) => shapes.has(name))) {
    throw new TrainingError('internal: parameterSpecs and expectedShapes disagree on the tensor names');
  }
  return names.map((name) => ({ name, shape: [...(shapes.get(name) as number[])] }));
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** Total number of parameters of a model with these args. */
export function parameterCount(args: ModelArgs): number {
  return parameterSpecs(args).reduce((sum, spec) => sum + numel(spec.shape), 0);
}

function isNorm(name: string): boolean {
  return name.endsWith('norm.weight');
}

function isResidualProjection(name: string): boolean {
  return name.endsWith('attention.wo.weight') || name.endsWith('feed_forward.w2.weight');
}

function checkScheme(scheme: InitScheme): void {
  if (scheme.kind === 'torch-default') return;
  if (scheme.kind !== 'normal') {
    throw new TrainingError(`unknown init scheme ${JSON.stringify((scheme as { kind: unknown }).kind)}`);
  }
  if (!Number.isFinite(scheme.std) || scheme.std <= 0) {
    throw new TrainingError(`normal init: std must be a positive number, got ${scheme.std}`);
  }
}

/**
 * Fresh parameters for `args`. Tensors are filled one after another in state_dict order from one
 * stream, so a given seed (or RNG state) and scheme always give the same model.
 */
export function initParameters(
  args: ModelArgs,
  options: { seed: number | TrainingRng; scheme?: InitScheme },
): Map<string, Float32Array> {
  const scheme = options.scheme ?? GPT2_INIT;
  checkScheme(scheme);
  const rng = typeof options.seed === 'number' ? new TrainingRng(options.seed) : options.seed;
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of parameterSpecs(args)) {
    const values = new Float32Array(numel(shape));
    if (isNorm(name)) values.fill(1);
    else if (scheme.kind === 'normal') {
      const std =
        scheme.scaleResidual && isResidualProjection(name) ? scheme.std / Math.sqrt(2 * args.nLayers) : scheme.std;
      for (let i = 0; i < values.length; i++) values[i] = rng.normal(0, std);
    } else if (name === 'tok_embeddings.weight') {
      for (let i = 0; i < values.length; i++) values[i] = rng.normal(0, 1);
    } else {
      const bound = 1 / Math.sqrt(shape[1] as number);
      for (let i = 0; i < values.length; i++) values[i] = (2 * rng.next() - 1) * bound;
    }
    out.set(name, values);
  }
  return out;
}
