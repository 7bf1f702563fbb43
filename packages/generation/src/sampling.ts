import { GenerationError } from './errors.js';
import type { Rng } from './rng.js';

// Host-side sampling: logits in, token id out. The default path is the reference's
// (llama/generation.py, spec §3.2–3.3):
//   temperature > 0 ? sample_top_p(softmax(logits / temperature), top_p) : argmax(logits)
// Optional llama.cpp-style logits processors (repetition penalty, top-k, min-p) run before it.

/** What a logits processor may read besides the logits. */
export interface LogitsContext {
  /** The sequence so far (prompt and generated tokens), oldest first. */
  readonly history: readonly number[];
}

/** One step of a sampler chain: it edits `logits` in place, and -Infinity removes a token. */
export type LogitsProcessor = (logits: Float32Array, context: LogitsContext) => void;

export interface SamplingOptions {
  /** Softmax temperature, ≥ 0; 0 picks the argmax (greedy). Default 0.6, as the reference. */
  temperature?: number;
  /** Nucleus mass, 0 < topP ≤ 1; 1 keeps every token. Default 0.9, as the reference. */
  topP?: number;
  /** Keep only the k highest logits (integer ≥ 1). Off by default. */
  topK?: number;
  /** Remove tokens whose probability is below minP × the top probability (0 ≤ minP ≤ 1). Off by default. */
  minP?: number;
  /** CTRL / llama.cpp repetition penalty (> 0; 1 is off). Off by default. */
  repetitionPenalty?: number;
  /** How many of the latest history tokens the repetition penalty looks at (integer ≥ 0). Default 64. */
  repetitionLastN?: number;
}

/** SamplingOptions after validation, with defaults filled in; `undefined` means that step is off. */
export interface ResolvedSamplingOptions {
  temperature: number;
  topP: number;
  topK: number | undefined;
  minP: number | undefined;
  repetitionPenalty: number | undefined;
  repetitionLastN: number;
}

export interface Sampler {
  /** Picks the next token. Never changes `logits`. Greedy picks draw nothing from the rng, others draw once. */
  sample(logits: Float32Array, history: readonly number[]): number;
}

export const DEFAULT_TEMPERATURE = 0.6;
export const DEFAULT_TOP_P = 0.9;
export const DEFAULT_REPETITION_LAST_N = 64;

// ---------------------------------------------------------------------------------------------------
// Validation

function fail(name: string, expected: string, value: unknown): never {
  throw new GenerationError(`${name} must be ${expected}, got ${String(value)}`);
}

function checkTemperature(name: string, value: number, allowZero: boolean): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  return ok ? value : fail(name, allowZero ? 'a finite number ≥ 0 (0 = greedy)' : 'a finite number > 0', value);
}

function checkTopP(value: number): number {
  return typeof value === 'number' && value > 0 && value <= 1 ? value : fail('topP', 'a number in (0, 1]', value);
}

function checkTopK(value: number): number {
  return Number.isInteger(value) && value >= 1 ? value : fail('topK', 'an integer ≥ 1', value);
}

function checkMinP(value: number): number {
  return typeof value === 'number' && value >= 0 && value <= 1 ? value : fail('minP', 'a number in [0, 1]', value);
}

function checkRepetitionPenalty(value: number): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value > 0;
  return ok ? value : fail('repetitionPenalty', 'a finite number > 0 (1 = off)', value);
}

function checkRepetitionLastN(value: number): number {
  return Number.isInteger(value) && value >= 0 ? value : fail('repetitionLastN', 'an integer ≥ 0', value);
}

/** Validates options (GenerationError naming the option and its range) and fills in the defaults. */
export function resolveSamplingOptions(options: SamplingOptions = {}): ResolvedSamplingOptions {
  return {
    temperature: checkTemperature('temperature', options.temperature ?? DEFAULT_TEMPERATURE, true),
    topP: checkTopP(options.topP ?? DEFAULT_TOP_P),
    topK: options.topK === undefined ? undefined : checkTopK(options.topK),
    minP: options.minP === undefined ? undefined : checkMinP(options.minP),
    repetitionPenalty:
      options.repetitionPenalty === undefined ? undefined : checkRepetitionPenalty(options.repetitionPenalty),
    repetitionLastN: checkRepetitionLastN(options.repetitionLastN ?? DEFAULT_REPETITION_LAST_N),
  };
}

// ---------------------------------------------------------------------------------------------------
// Argmax and softmax

/** Index of the first maximum, as torch.argmax on real values. NaN never counts as greater; all NaN → 0. */
export function argmax(values: ArrayLike<number>): number {
  if (values.length === 0) throw new GenerationError('argmax needs at least one value');
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
function maxIgnoringNaN(values: ArrayLike<number>): number {
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
export function softmax(logits: Float32Array, temperature = 1): Float32Array {
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
  const max = finiteMaxLogit(logits);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
  if (Number.isNaN(sum)) throw new GenerationError('logits must not contain NaN');
  const logSum = Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = (logits[i] as number) - max - logSum;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Top-p (nucleus) sampling
//
// The reference sorts the whole vocabulary. We sort only the tokens that can be in the nucleus, found with
// a histogram of the probabilities' float32 bit patterns.
//
// Candidate filter and proof. For non-negative float32 values the bit pattern, read as an unsigned
// integer, is strictly increasing in the value. So bucket(x) = bits(x) >>> BUCKET_SHIFT is non-decreasing in
// x, and a token in a lower bucket has a strictly smaller probability than every token in a higher bucket.
// One pass sums the mass M(b) of each bucket. Walking the buckets from the top, let c be the first bucket
// with  A = Σ_{b ≥ c} M(b) > topP  (with a rounding margin, below). The candidates are the tokens in buckets
// ≥ c. Take any other token x. Every candidate has a strictly larger probability than x, so in the
// descending order every candidate comes before x, and the mass before x is at least A > topP: x is
// dropped. The candidates also come before every non-candidate, so the candidates, sorted, are exactly the
// start of the fully sorted vocabulary (with the same tie rule), and the nucleus lies inside them. Keeping,
// renormalising and drawing over that start gives the same token as a full sort, with the same
// floating-point operations in the same order.
// Rounding margin: the reference's running f64 sum of n non-negative terms is within γ = n·2⁻⁵³ (relative)
// of the exact sum, and so is A. Asking for A > topP + 1e-6·A instead of A > topP keeps the argument
// exact for n up to ~4·10⁹ (2γ ≤ 1e-6). If no bucket qualifies (topP is close to the whole mass), all tokens
// are candidates: that is the full sort.
//
// A bucket spans 2^-5 of an octave (5 mantissa bits), so besides the nucleus the candidates hold only the
// part of the last bucket that lies past it. On a real model's distribution they are a handful of tokens.

const BUCKET_SHIFT = 18;
/** Non-negative finite float32 bit patterns are below 2^31, so their buckets are below 2^(31 − shift). */
const BUCKET_COUNT = 2 ** (31 - BUCKET_SHIFT);
const FIRST_NON_FINITE_BITS = 0x7f800000;
const NEGATIVE_ZERO_BITS = 0x80000000;
const RELATIVE_SUM_MARGIN = 1e-6;
/** Sort keys pack (31 value bits, index bits) into a double's 53-bit integer range. */
const MAX_PACKED_INDEX_BITS = 22;

// Scratch space reused by every call (sampling is synchronous, so calls never overlap).
const bucketMass = new Float64Array(BUCKET_COUNT);
const bucketSize = new Uint32Array(BUCKET_COUNT);
const bitsOfOneFloat = new Uint32Array(1);
const oneFloat = new Float32Array(bitsOfOneFloat.buffer);

/**
 * The reference's sample_top_p: sort descending, drop every token whose preceding mass exceeds topP (the
 * top token is always kept), renormalise the kept ones and draw one with a single rng draw. `probs` must be
 * finite and ≥ 0; they need not sum to 1. Equal probabilities are ordered by ascending token id.
 * Sums run in f64 (the reference's cumsum runs in f32; the two differ only at the 1e-7 level).
 * topP = 1 keeps every token and draws in token-id order instead (same distribution, no sort).
 */
export function sampleTopP(probs: Float32Array, topP: number, rng: Rng): number {
  checkTopP(topP);
  if (probs.length === 0) throw new GenerationError('probs must not be empty');
  if (topP >= 1) return drawInIdOrder(probs, rng);
  const order = nucleusCandidatesDescending(probs, topP);
  return drawFromNucleus(probs, order, topP, rng);
}

function invalidProbability(index: number, value: number): never {
  throw new GenerationError(`probabilities must be finite and ≥ 0, got ${value} at token ${index}`);
}

/** Token ids that can be in the nucleus, sorted by descending probability, then ascending id. */
function nucleusCandidatesDescending(probs: Float32Array, topP: number): Uint32Array {
  const cutoffBucket = fillHistogramAndFindCutoff(probs, topP);
  bitsOfOneFloat[0] = cutoffBucket << BUCKET_SHIFT;
  const smallestCandidate = oneFloat[0] as number;
  return probs.length <= 2 ** MAX_PACKED_INDEX_BITS
    ? sortCandidatesPacked(probs, smallestCandidate)
    : sortCandidatesWithComparator(probs, smallestCandidate);
}

/** Histogram of mass per bucket (validating every probability); returns the cutoff bucket c of the proof. */
function fillHistogramAndFindCutoff(probs: Float32Array, topP: number): number {
  const bits = new Uint32Array(probs.buffer, probs.byteOffset, probs.length);
  bucketMass.fill(0);
  bucketSize.fill(0);
  let topBucket = 0;
  for (let i = 0; i < bits.length; i++) {
    const pattern = bits[i] as number;
    if (pattern >= FIRST_NON_FINITE_BITS) {
      if (pattern !== NEGATIVE_ZERO_BITS) invalidProbability(i, probs[i] as number);
      bucketSize[0] = (bucketSize[0] as number) + 1; // -0 counts as 0.
      continue;
    }
    const bucket = pattern >>> BUCKET_SHIFT;
    bucketMass[bucket] = (bucketMass[bucket] as number) + (probs[i] as number);
    bucketSize[bucket] = (bucketSize[bucket] as number) + 1;
    if (bucket > topBucket) topBucket = bucket;
  }
  let massFromTop = 0;
  for (let bucket = topBucket; bucket > 0; bucket--) {
    massFromTop += bucketMass[bucket] as number;
    if (massFromTop > topP + RELATIVE_SUM_MARGIN * massFromTop) return bucket;
  }
  return 0;
}

/**
 * Sorts the candidates (probability ≥ smallestCandidate) with the engine's native numeric sort: each key is
 * bits(p) · 2^indexBits + (2^indexBits − 1 − id), so ascending keys are ascending probability, then
 * descending id; reading them backwards gives descending probability, then ascending id.
 */
function sortCandidatesPacked(probs: Float32Array, smallestCandidate: number): Uint32Array {
  const bits = new Uint32Array(probs.buffer, probs.byteOffset, probs.length);
  const indexBits = Math.max(1, Math.ceil(Math.log2(probs.length)));
  const scale = 2 ** indexBits;
  const lastId = scale - 1;
  const keys = new Float64Array(countCandidates(probs, smallestCandidate));
  let count = 0;
  for (let i = 0; i < probs.length; i++) {
    if ((probs[i] as number) >= smallestCandidate) {
      keys[count++] = ((bits[i] as number) & 0x7fffffff) * scale + (lastId - i);
    }
  }
  keys.sort();
  const order = new Uint32Array(count);
  for (let j = 0; j < count; j++) order[j] = lastId - ((keys[count - 1 - j] as number) % scale);
  return order;
}

function countCandidates(probs: Float32Array, smallestCandidate: number): number {
  let count = 0;
  for (let i = 0; i < probs.length; i++) if ((probs[i] as number) >= smallestCandidate) count++;
  return count;
}

/** The same order for vocabularies too large to pack into a double. */
function sortCandidatesWithComparator(probs: Float32Array, smallestCandidate: number): Uint32Array {
  const order = new Uint32Array(countCandidates(probs, smallestCandidate));
  let count = 0;
  for (let i = 0; i < probs.length; i++) if ((probs[i] as number) >= smallestCandidate) order[count++] = i;
  return order.sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
}

/** Keeps the start of `order` whose preceding mass is ≤ topP, renormalises it and draws one token. */
function drawFromNucleus(probs: Float32Array, order: Uint32Array, topP: number, rng: Rng): number {
  let kept = 0;
  let keptMass = 0;
  while (kept < order.length && keptMass <= topP) {
    keptMass += probs[order[kept] as number] as number;
    kept++;
  }
  if (!(keptMass > 0)) throw new GenerationError('probabilities must not all be zero');
  const target = rng.next() * keptMass;
  let cumulative = 0;
  let lastPositive = order[0] as number;
  for (let j = 0; j < kept; j++) {
    const id = order[j] as number;
    const p = probs[id] as number;
    cumulative += p;
    if (target < cumulative) return id;
    if (p > 0) lastPositive = id;
  }
  return lastPositive; // Unreachable while rng.next() < 1: the walk repeats keptMass's sum exactly.
}

/** topP = 1: every token is kept, so draw straight from `probs` in id order. */
function drawInIdOrder(probs: Float32Array, rng: Rng): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    if (!(p >= 0 && p < Number.POSITIVE_INFINITY)) invalidProbability(i, p);
    total += p;
  }
  if (!(total > 0)) throw new GenerationError('probabilities must not all be zero');
  const target = rng.next() * total;
  let cumulative = 0;
  let lastPositive = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    cumulative += p;
    if (target < cumulative) return i;
    if (p > 0) lastPositive = i;
  }
  return lastPositive;
}

// ---------------------------------------------------------------------------------------------------
// Logits processors

/**
 * CTRL / llama.cpp repetition penalty: each distinct token among the last `lastN` of the history gets
 * logit / penalty when its logit is > 0 and logit × penalty otherwise (so penalty > 1 always discourages it).
 */
export function repetitionPenalty(penalty: number, lastN = DEFAULT_REPETITION_LAST_N): LogitsProcessor {
  checkRepetitionPenalty(penalty);
  checkRepetitionLastN(lastN);
  return (logits, { history }) => {
    const seen = new Set<number>();
    for (let i = Math.max(0, history.length - lastN); i < history.length; i++) {
      const token = history[i] as number;
      if (seen.has(token)) continue;
      seen.add(token);
      if (!(Number.isInteger(token) && token >= 0 && token < logits.length)) {
        throw new GenerationError(`history token ${token} is outside the vocabulary [0, ${logits.length})`);
      }
      const logit = logits[token] as number;
      logits[token] = logit > 0 ? logit / penalty : logit * penalty;
    }
  };
}

/** Orders NaN below every number, so a NaN logit is never preferred. */
function rankOf(logit: number): number {
  return Number.isNaN(logit) ? Number.NEGATIVE_INFINITY : logit;
}

/**
 * Keeps exactly the k highest logits (all of them when there are ≤ k) and sets the rest to -Infinity. On a
 * tie at the boundary the lower token ids are kept, the first-index rule of argmax. NaN ranks lowest.
 */
export function topK(k: number): LogitsProcessor {
  checkTopK(k);
  return (logits) => {
    if (k >= logits.length) return;
    const { threshold, tiesKept } = kthLargest(logits, k);
    let tiesSeen = 0;
    for (let i = 0; i < logits.length; i++) {
      const rank = rankOf(logits[i] as number);
      if (rank > threshold || (rank === threshold && tiesSeen++ < tiesKept)) continue;
      logits[i] = Number.NEGATIVE_INFINITY;
    }
  };
}

/**
 * The k-th largest rank, and how many tokens with exactly that rank the top k hold (the first ones by id).
 * A size-k min-heap: O(V log k), and usually one comparison per token for a small k.
 */
function kthLargest(logits: Float32Array, k: number): { threshold: number; tiesKept: number } {
  const heap = new Float64Array(k); // Ranks only: among equal ranks the earliest ids win, counted later.
  let size = 0;
  for (let i = 0; i < logits.length; i++) {
    const rank = rankOf(logits[i] as number);
    if (size < k) {
      siftUp(heap, size++, rank);
    } else if (rank > (heap[0] as number)) {
      siftDown(heap, size, rank);
    }
  }
  const threshold = heap[0] as number;
  let tiesKept = 0;
  for (let j = 0; j < size; j++) if (heap[j] === threshold) tiesKept++;
  return { threshold, tiesKept };
}

function siftUp(heap: Float64Array, position: number, value: number): void {
  let child = position;
  while (child > 0) {
    const parent = (child - 1) >> 1;
    if ((heap[parent] as number) <= value) break;
    heap[child] = heap[parent] as number;
    child = parent;
  }
  heap[child] = value;
}

/** Replaces the root (the minimum) with `value` and restores the heap. */
function siftDown(heap: Float64Array, size: number, value: number): void {
  let parent = 0;
  for (;;) {
    let child = 2 * parent + 1;
    if (child >= size) break;
    if (child + 1 < size && (heap[child + 1] as number) < (heap[child] as number)) child++;
    if ((heap[child] as number) >= value) break;
    heap[parent] = heap[child] as number;
    parent = child;
  }
  heap[parent] = value;
}

/**
 * Removes tokens whose probability is below p × the top probability. In logit space (temperature 1, as it
 * runs before the temperature): p_i / p_max = exp(logit_i − maxLogit) < p  ⇔  logit_i < maxLogit + ln p.
 * p = 0 removes nothing; p = 1 keeps only the tokens tied for the top. Otherwise NaN logits are removed too.
 */
export function minP(p: number): LogitsProcessor {
  checkMinP(p);
  return (logits) => {
    if (p === 0) return;
    const threshold = maxIgnoringNaN(logits) + Math.log(p);
    for (let i = 0; i < logits.length; i++) {
      const logit = logits[i] as number;
      if (!(logit >= threshold)) logits[i] = Number.NEGATIVE_INFINITY;
    }
  };
}

/** Divides the logits by t (> 0), for hand-built chains; createSampler folds temperature into its softmax. */
export function temperature(t: number): LogitsProcessor {
  checkTemperature('temperature', t, false);
  return (logits) => {
    for (let i = 0; i < logits.length; i++) logits[i] = (logits[i] as number) / t;
  };
}

// ---------------------------------------------------------------------------------------------------
// The sampler chain

/** The processors `options` turn on, in chain order: repetition penalty → top-k → min-p. */
export function processorsFor(options: ResolvedSamplingOptions): LogitsProcessor[] {
  const chain: LogitsProcessor[] = [];
  if (options.repetitionPenalty !== undefined && options.repetitionPenalty !== 1 && options.repetitionLastN > 0) {
    chain.push(repetitionPenalty(options.repetitionPenalty, options.repetitionLastN));
  }
  if (options.topK !== undefined) chain.push(topK(options.topK));
  if (options.minP !== undefined && options.minP > 0) chain.push(minP(options.minP));
  return chain;
}

/** Runs the chain on a copy, so the caller's logits stay as they were. */
function applyProcessors(
  logits: Float32Array,
  chain: readonly LogitsProcessor[],
  history: readonly number[],
): Float32Array {
  const processed = logits.slice();
  const context: LogitsContext = { history };
  for (const processor of chain) processor(processed, context);
  return processed;
}

/**
 * A sampler: repetition penalty → top-k → min-p → (temperature 0 ? argmax : top-p over
 * softmax(logits / temperature)). With only temperature and topP set it is exactly the reference's step.
 * Options are validated here (GenerationError naming the option and its range).
 */
export function createSampler(options: SamplingOptions, rng: Rng): Sampler {
  const resolved = resolveSamplingOptions(options);
  const chain = processorsFor(resolved);
  return {
    sample(logits: Float32Array, history: readonly number[]): number {
      const processed = chain.length === 0 ? logits : applyProcessors(logits, chain, history);
      if (resolved.temperature === 0) return argmax(processed);
      return sampleTopP(softmax(processed, resolved.temperature), resolved.topP, rng);
    },
  };
}
