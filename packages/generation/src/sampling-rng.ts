import { GenerationError } from './errors.js';

/** A source of uniform random numbers; the sampler's only source of randomness. */
export interface SamplingRng {
  /** A uniform draw in [0, 1) with 32 random bits. */
  next(): number;
}

const TWO_POW_32 = 4_294_967_296;
const GOLDEN_GAMMA = 0x9e3779b9;

/**
 * A seeded xoshiro128** generator (Blackman & Vigna, 128 bits of state, period 2^128 − 1), whose four
 * state words come from splitmix32. It uses 32-bit integer arithmetic only (Math.imul, `>>> 0`), so a
 * seed gives the same stream on every platform and JavaScript engine.
 *
 * Any finite number is a valid seed, and each distinct number gets its own stream. The seed's IEEE-754
 * double bit pattern is what gets hashed: −0 counts as 0, and a non-integer is used as it is, with no
 * rounding, so 1.5 and 1.5000000000000002 give unrelated streams. Integers are recommended, because
 * they read and store exactly (up to 2^53).
 */
export function createSamplingRng(seed: number): SamplingRng {
  const [low, high] = seedWords(seed);
  // xoshiro128**'s first output reads only word 1, so every word must depend on the whole seed, not on one
  // half. splitmix32 is a bijection of its starting word for a fixed step, so word 0 gives `low`, and then
  // word 1 gives `high`: distinct seeds get distinct states. The state is never all zero: word 0 is 0 only
  // when a = 0, and then word 3 is splitmix32(0, 2) ≠ 0 (the finaliser maps only 0 to 0).
  const a = splitmix32(low, 1);
  const b = splitmix32(high ^ a, 1);
  const state = new Uint32Array([a, b, splitmix32(b, 2), splitmix32(a, 2)]);
  return { next: () => xoshiro128StarStar(state) / TWO_POW_32 };
}

/** The two 32-bit halves of the seed's float64 bit pattern, as [low, high]. */
function seedWords(seed: number): [number, number] {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new GenerationError(`seed must be a finite number (an integer is recommended), got ${String(seed)}`);
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed === 0 ? 0 : seed, true); // Explicit little-endian: same words on every host.
  return [view.getUint32(0, true), view.getUint32(4, true)];
}

/** Output number `step` (1-based) of a splitmix32 sequence that starts at `word` (a bijective hash-prospector finaliser). */
function splitmix32(word: number, step: number): number {
  let z = (word + Math.imul(GOLDEN_GAMMA, step)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** Advances the state in place; returns the next 32-bit output as an unsigned integer. */
function xoshiro128StarStar(s: Uint32Array): number {
  const s0 = s[0] as number;
  const s1 = s[1] as number;
  const s2 = s[2] as number;
  const s3 = s[3] as number;
  const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9) >>> 0;
  const t = s1 << 9;
  const n2 = s2 ^ s0;
  const n3 = s3 ^ s1;
  s[0] = s0 ^ n3;
  s[1] = s1 ^ n2;
  s[2] = n2 ^ t;
  s[3] = rotateLeft(n3, 11);
  return result;
}

function rotateLeft(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}
