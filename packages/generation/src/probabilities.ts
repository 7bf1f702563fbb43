import { GenerationError } from './errors.js';
import { checkTemperature } from './sampling-options.js';

// From logits to probabilities on the host, in JavaScript (the kernels package has device ops of its own
// named softmax and argmax; these are the sampler's).

/** Index of the first maximum, as torch.argmax on real values. NaN never counts as greater; all NaN → 0. */
export function argmaxOf(values: ArrayLike<number>): number {
  if (values.length === 0) throw new GenerationError('argmaxOf needs at least one value');
  let best = 0;
  while (best < values.length && Number.isNaN(values[best])) best++;
  if (best === values.length) return 0;
  let bestValue = values[best] as number;
  for (let i = best + 1; i < values.length; i++) {
    const value = values[i] as number;
    if (value > bestValue) {
      bestValue = value;
      best = i;
    }
  }
  return best;
}

/** The largest non-NaN value (-Infinity when there is none). */
export function maxIgnoringNaN(values: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (value > max) max = value;
  }
  return max;
}

/** The largest logit, which must be finite: the softmax is undefined when it is -Infinity, +Infinity or NaN. */
function finiteMaxLogit(logits: ArrayLike<number>): number {
  if (logits.length === 0) throw new GenerationError('logits must not be empty');
  const max = maxIgnoringNaN(logits);
  if (max === Number.NEGATIVE_INFINITY)
    throw new GenerationError('every token was removed (all logits are -Infinity or NaN)');
  if (max === Number.POSITIVE_INFINITY) throw new GenerationError('logits must not contain +Infinity');
  return max;
}

/**
 * softmax(logits / temperature) with max subtraction. As the reference, `logits / temperature` is rounded
 * to float32 first; exp runs in f64, the probabilities are stored in f32, and the normaliser is the f64 sum
 * of the stored values. NaN logits throw.
 */
export function softmaxOf(logits: Float32Array, temperature = 1): Float32Array {
  checkTemperature('temperature', temperature, false);
  const probs = temperature === 1 ? logits.slice() : divideToFloat32(logits, temperature);
  const max = finiteMaxLogit(probs);
  let sum = 0;
  for (let i = 0; i < probs.length; i++) {
    probs[i] = Math.exp((probs[i] as number) - max);
    sum += probs[i] as number;
  }
  if (Number.isNaN(sum)) throw new GenerationError('logits must not contain NaN');
  const inverse = 1 / sum;
  for (let i = 0; i < probs.length; i++) probs[i] = (probs[i] as number) * inverse;
  return probs;
}

function divideToFloat32(logits: Float32Array, divisor: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = (logits[i] as number) / divisor;
  return out;
}

/** Natural-log softmax in f64 (no temperature: the reference's log-probs use the raw logits). */
export function logSoftmax(logits: Float32Array): Float64Array {
  const { max, logSum } = logSoftmaxTerms(logits);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = (logits[i] as number) - max - logSum;
  return out;
}

/** The max logit and log Σ exp(logit - max): logSoftmax(logits)[i] = logits[i] - max - logSum. */
function logSoftmaxTerms(logits: Float32Array): { max: number; logSum: number } {
  const max = finiteMaxLogit(logits);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
  if (Number.isNaN(sum)) throw new GenerationError('logits must not contain NaN');
  return { max, logSum: Math.log(sum) };
}

/** A token and its natural-log probability. */
export interface TokenLogprob {
  token: number;
  logprob: number;
}

/**
 * The k most likely tokens under the untempered logits, most likely first (the lower id first on a
 * tie), with their log-probs: what OpenAI's top_logprobs reports beside each generated token.
 */
export function topLogprobsOf(logits: Float32Array, k: number): TokenLogprob[] {
  if (!Number.isInteger(k) || k < 0) throw new GenerationError(`topLogprobs must be an integer ≥ 0, got ${k}`);
  if (k === 0) return [];
  // The k largest logits (no vocabulary-sized array per token), then their log-probs.
  // A sorted list of at most k entries: insertion is O(k) per token, and k is small (OpenAI allows 20).
  const best: { token: number; logit: number }[] = [];
  for (let token = 0; token < logits.length; token++) {
    const logit = logits[token] as number;
    if (Number.isNaN(logit)) continue;
    if (best.length === k && logit <= (best[k - 1] as { logit: number }).logit) continue;
    let at = best.length;
    while (at > 0 && (best[at - 1] as { logit: number }).logit < logit) at--;
    best.splice(at, 0, { token, logit });
    if (best.length > k) best.pop();
  }
  const { max, logSum } = logSoftmaxTerms(logits);
  return best.map(({ token, logit }) => ({ token, logprob: Math.fround(logit - max - logSum) }));
}
