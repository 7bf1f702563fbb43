/**
 * A small seeded PRNG (xoshiro128**, seeded through splitmix32) whose whole state is four uint32s,
 * so a training run can save it and resume with the same random stream.
 */

import { TrainingError } from './errors.js';

export type RngState = readonly [number, number, number, number];

const TWO_POW_32 = 2 ** 32;

export class TrainingRng {
  #s: Uint32Array;

  /** `seed`: any integer (taken modulo 2^32). The same seed always gives the same stream. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new TrainingError(`TrainingRng: seed must be an integer, got ${seed}`);
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32: spreads one 32-bit seed into the four words xoshiro needs.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s = Uint32Array.of(next(), next(), next(), next());
    if (this.#s.every((word) => word === 0)) this.#s[0] = 1;
  }

  /** A generator continuing exactly where the one whose `state()` this is left off. */
  static fromState(state: RngState): TrainingRng {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      !state.every((word) => Number.isInteger(word) && word >= 0 && word < TWO_POW_32) ||
      state.every((word) => word === 0)
    ) {
      throw new TrainingError(
        `TrainingRng.fromState: expected four uint32 words, not all zero, got ${JSON.stringify(state)}`,
      );
    }
    const rng = new TrainingRng(0);
    rng.#s = Uint32Array.from(state);
    return rng;
  }

  state(): RngState {
    const [a, b, c, d] = this.#s;
    return [a ?? 0, b ?? 0, c ?? 0, d ?? 0];
  }

  /** The next uint32. */
  nextUint32(): number {
    const s = this.#s;
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const s2 = s[2] as number;
    const s3 = s[3] as number;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = rotl(n3, 11);
    return result;
  }

  /** Uniform in [0, 1), 53 random bits. */
  next(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias; n at most 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new TrainingError(`TrainingRng.int: n must be an integer in 1..2^32, got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % n;
    }
  }

  /** Normal(mean, std) by Box–Muller (one draw per call, so the state stays four words). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.next(); // (0, 1]: log stays finite
    const u2 = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
