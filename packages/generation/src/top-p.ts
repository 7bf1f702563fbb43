import { GenerationError } from './errors.js';
import { checkTopP } from './sampling-options.js';
import type { SamplingRng } from './sampling-rng.js';

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
export function sampleTopP(probs: Float32Array, topP: number, rng: SamplingRng): number {
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
function drawFromNucleus(probs: Float32Array, order: Uint32Array, topP: number, rng: SamplingRng): number {
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
function drawInIdOrder(probs: Float32Array, rng: SamplingRng): number {
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
