import { describe, expect, it } from 'vitest';
import { GenerationError } from '../src/errors.js';
import { minP, occurrencePenalty, repetitionPenalty, temperature, topK } from '../src/logits-processors.js';
import { argmaxOf, logSoftmax, softmaxOf, topLogprobsOf } from '../src/probabilities.js';
import { createSampler } from '../src/sampler.js';
import type { SamplingOptions } from '../src/sampling-options.js';
import { createSamplingRng, type SamplingRng } from '../src/sampling-rng.js';
import { sampleTopP } from '../src/top-p.js';

const LLAMA3_VOCAB = 128256;

/** An rng that always returns `value`: it pins the draw to one place in the kept mass. */
function constantRng(value: number): SamplingRng {
  return { next: () => value };
}

const rngThatMustNotBeUsed: SamplingRng = {
  next: () => {
    throw new Error('the rng must not be used');
  },
};

function gaussian(rng: SamplingRng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function randomLogits(size: number, scale: number, rng: SamplingRng): Float32Array {
  const logits = new Float32Array(size);
  for (let i = 0; i < size; i++) logits[i] = scale * gaussian(rng);
  return logits;
}

function countDraws(draw: () => number, size: number, draws: number): number[] {
  const counts = new Array<number>(size).fill(0);
  for (let i = 0; i < draws; i++) {
    const token = draw();
    counts[token] = (counts[token] ?? 0) + 1;
  }
  return counts;
}

function chiSquare(counts: readonly number[], expectedProbabilities: readonly number[], draws: number): number {
  let statistic = 0;
  expectedProbabilities.forEach((p, i) => {
    const expected = p * draws;
    statistic += ((counts[i] ?? 0) - expected) ** 2 / expected;
  });
  return statistic;
}

/** The reference's sample_top_p with a plain full sort (descending probability, then ascending id). */
function fullySortedOrder(probs: Float32Array): number[] {
  return Array.from(probs.keys()).sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
}

function referenceSampleTopP(probs: Float32Array, order: readonly number[], topP: number, rng: SamplingRng): number {
  let kept = 0;
  let keptMass = 0;
  while (kept < order.length && keptMass <= topP) keptMass += probs[order[kept++] as number] as number;
  const target = rng.next() * keptMass;
  let cumulative = 0;
  for (let j = 0; j < kept; j++) {
    cumulative += probs[order[j] as number] as number;
    if (target < cumulative) return order[j] as number;
  }
  throw new Error('the reference walked past the kept mass');
}

describe('createSamplingRng', () => {
  it('gives the same stream for the same seed, pinned to values checked against a C xoshiro128** build', () => {
    const first = createSamplingRng(1);
    expect([first.next(), first.next(), first.next()]).toEqual([
      0.29135420243255794, 0.5719184703193605, 0.4080578212160617,
    ]);
    const a = createSamplingRng(42);
    const b = createSamplingRng(42);
    const streamA = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(streamA);
    expect(streamA[0]).toBe(0.11009680246934295);
  });

  it('gives different streams for different seeds, including their first draws', () => {
    const firstDraws = new Set(
      [0, 1, 2, 3, 42, -1, 1.5, 2 ** 40, Number.MAX_SAFE_INTEGER].map((s) => createSamplingRng(s).next()),
    );
    expect(firstDraws.size).toBe(9);
    expect(createSamplingRng(-0).next()).toBe(createSamplingRng(0).next());
  });

  it('draws uniformly in [0, 1)', () => {
    const rng = createSamplingRng(7);
    const bins = new Array<number>(16).fill(0);
    const draws = 160_000;
    let outOfRange = 0;
    for (let i = 0; i < draws; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) outOfRange++;
      const bin = Math.floor(u * 16);
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
    expect(outOfRange).toBe(0);
    // 15 degrees of freedom: the p = 0.001 critical value is 37.697.
    expect(chiSquare(bins, new Array<number>(16).fill(1 / 16), draws)).toBeLessThan(37.697);
  });

  it('rejects a seed that is not a finite number, naming `seed`', () => {
    for (const seed of [Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number]) {
      expect(() => createSamplingRng(seed)).toThrow(GenerationError);
      expect(() => createSamplingRng(seed)).toThrow(/seed/);
    }
  });
});

describe('sampleTopP', () => {
  // Token ids are shuffled so that the sort does real work.
  const probabilities = [0.3, 0.2, 0.15, 0.1, 0.08, 0.06, 0.04, 0.03, 0.02, 0.01, 0.007, 0.003];
  const ids = [7, 2, 11, 0, 5, 9, 1, 4, 10, 3, 8, 6];
  const probs = new Float32Array(12);
  probabilities.forEach((p, rank) => {
    probs[ids[rank] as number] = p;
  });

  it('draws from the renormalised nucleus (chi-square) and never outside it', () => {
    // topP 0.8: masses before the sorted tokens are 0, .3, .5, .65, .75, .83, …, so the first five are kept.
    const keptIds = ids.slice(0, 5);
    const keptMass = 0.3 + 0.2 + 0.15 + 0.1 + 0.08;
    const rng = createSamplingRng(2024);
    const draws = 200_000;
    const counts = countDraws(() => sampleTopP(probs, 0.8, rng), 12, draws);
    const dropped = ids.slice(5);
    for (const id of dropped) expect(counts[id]).toBe(0);
    const statistic = chiSquare(
      keptIds.map((id) => counts[id] ?? 0),
      probabilities.slice(0, 5).map((p) => p / keptMass),
      draws,
    );
    // 5 kept categories → 4 degrees of freedom: the p = 0.001 critical value is 18.467.
    console.log(`sampleTopP chi-square (df 4, 200000 draws): ${statistic.toFixed(3)} (critical 18.467)`);
    expect(statistic).toBeLessThan(18.467);
  });

  it('with topP = 1 draws from the whole distribution', () => {
    const rng = createSamplingRng(99);
    const draws = 200_000;
    const counts = countDraws(() => sampleTopP(probs, 1, rng), 12, draws);
    const expected = Array.from(probs, (p) => p / probabilities.reduce((sum, q) => sum + q, 0));
    // 12 categories → 11 degrees of freedom: the p = 0.001 critical value is 31.264.
    expect(chiSquare(counts, expected, draws)).toBeLessThan(31.264);
  });

  it('keeps a token whose preceding mass equals topP and drops one whose preceding mass exceeds it', () => {
    // Dyadic probabilities are exact in float32 and f64, so the boundary is exact.
    const dyadic = new Float32Array([0.0625, 0.25, 0.03125, 0.5, 0.125, 0.03125]);
    const almostOne = constantRng(1 - 2 ** -32); // picks the last kept token
    // Sorted: 0.5 (id 3), 0.25 (id 1), 0.125 (id 4), 0.0625 (id 0), …; masses before: 0, .5, .75, .875.
    expect(sampleTopP(dyadic, 0.75, almostOne)).toBe(4);
    expect(sampleTopP(dyadic, 0.75 - 2 ** -20, almostOne)).toBe(1);
    expect(sampleTopP(dyadic, 0.5, almostOne)).toBe(1);
    expect(sampleTopP(dyadic, 0.5 - 2 ** -20, almostOne)).toBe(3);
    expect(sampleTopP(dyadic, 0.875, almostOne)).toBe(0);
    expect(sampleTopP(dyadic, 0.001, almostOne)).toBe(3);
    expect(sampleTopP(dyadic, 0.75, constantRng(0))).toBe(3);
  });

  it('keeps the same boundary inside a 128256-token vocabulary', () => {
    const probs = new Float32Array(LLAMA3_VOCAB).fill(2 ** -20);
    const bigOnes = [0.5, 0.25, 0.125];
    const bigIds = [90_000, 17, 128_255];
    bigOnes.forEach((p, j) => {
      probs[bigIds[j] as number] = p;
    });
    const almostOne = constantRng(1 - 2 ** -32);
    expect(sampleTopP(probs, 0.75, almostOne)).toBe(128_255);
    expect(sampleTopP(probs, 0.75 - 2 ** -30, almostOne)).toBe(17);
    // 0.875 before the first small token: it is kept (the lowest id of the tie), the next one is not.
    expect(sampleTopP(probs, 0.875, almostOne)).toBe(0);
  });

  it('matches a plain full-sort implementation on many distributions, draw for draw', () => {
    const shapes: { size: number; make: (rng: SamplingRng) => Float32Array }[] = [];
    for (const size of [LLAMA3_VOCAB, 1000, 12, 2, 1]) {
      for (const scale of [0.05, 1, 3, 10]) {
        shapes.push({ size, make: (rng) => softmaxOf(randomLogits(size, scale, rng)) });
      }
      // Many ties: logits rounded to integers; an all-equal distribution; many removed tokens.
      shapes.push({ size, make: (rng) => softmaxOf(randomLogits(size, 2, rng).map(Math.round)) });
      shapes.push({ size, make: () => softmaxOf(new Float32Array(size)) });
      shapes.push({
        size,
        make: (rng) =>
          softmaxOf(randomLogits(size, 1, rng).map((x, i) => (i % 3 === 1 ? Number.NEGATIVE_INFINITY : x))),
      });
    }
    const source = createSamplingRng(5);
    let comparisons = 0;
    for (const shape of shapes) {
      const probs = shape.make(source);
      const order = fullySortedOrder(probs);
      for (const topP of [1e-6, 0.1, 0.5, 0.9, 0.95, 0.999, 1 - 2 ** -24]) {
        const seed = Math.floor(source.next() * 1e9);
        const fast = createSamplingRng(seed);
        const reference = createSamplingRng(seed);
        for (let draw = 0; draw < 8; draw++) {
          expect(sampleTopP(probs, topP, fast)).toBe(referenceSampleTopP(probs, order, topP, reference));
          comparisons++;
        }
      }
    }
    expect(comparisons).toBe(shapes.length * 7 * 8);
  });

  it('accepts a Float32Array view with an offset', () => {
    const backing = new Float32Array([9, 9, 0.25, 0.5, 0.25]);
    expect(sampleTopP(backing.subarray(2), 0.4, constantRng(0.99))).toBe(1);
  });

  it('rejects invalid probabilities and topP', () => {
    const rng = createSamplingRng(1);
    expect(() => sampleTopP(new Float32Array([0.5, -0.1]), 0.9, rng)).toThrow(/probabilities must be finite and ≥ 0/);
    expect(() => sampleTopP(new Float32Array([0.5, Number.NaN]), 0.9, rng)).toThrow(GenerationError);
    expect(() => sampleTopP(new Float32Array([0.5, Number.NaN]), 1, rng)).toThrow(GenerationError);
    expect(() => sampleTopP(new Float32Array([0, 0]), 0.9, rng)).toThrow(/all be zero/);
    expect(() => sampleTopP(new Float32Array([]), 0.9, rng)).toThrow(GenerationError);
    for (const topP of [0, -1, 1.5, Number.NaN]) {
      expect(() => sampleTopP(new Float32Array([1]), topP, rng)).toThrow(/topP must be a number in \(0, 1\]/);
    }
  });
});

describe('softmaxOf and logSoftmax', () => {
  it('subtracts the max, applies the temperature and gives 0 to removed tokens', () => {
    const probs = softmaxOf(new Float32Array([1000, 1001, Number.NEGATIVE_INFINITY]));
    expect(probs[0]).toBeCloseTo(1 / (1 + Math.E), 6);
    expect(probs[1]).toBeCloseTo(Math.E / (1 + Math.E), 6);
    expect(probs[2]).toBe(0);
    const tempered = softmaxOf(new Float32Array([0, Math.log(2)]), 0.5);
    expect(tempered[1]).toBeCloseTo(0.8, 6);
  });

  it('throws when every token is removed, or on NaN', () => {
    expect(() => softmaxOf(new Float32Array([Number.NEGATIVE_INFINITY]))).toThrow(/every token was removed/);
    expect(() => softmaxOf(new Float32Array([1, Number.NaN]))).toThrow(/NaN/);
    expect(() => softmaxOf(new Float32Array([1]), 0)).toThrow(/temperature/);
  });

  it('logSoftmax is the log of softmax, in f64', () => {
    const logits = new Float32Array([2, -1, 0.5, 7]);
    const logProbs = logSoftmax(logits);
    const probs = softmaxOf(logits);
    logProbs.forEach((lp, i) => {
      expect(lp).toBeCloseTo(Math.log(probs[i] as number), 6);
    });
    expect(logProbs.reduce((sum, lp) => sum + Math.exp(lp), 0)).toBeCloseTo(1, 12);
  });
});

describe('argmaxOf and greedy sampling', () => {
  it('returns the first index of the maximum, and NaN never wins', () => {
    expect(argmaxOf(new Float32Array([1, 3, 3, 2]))).toBe(1);
    expect(argmaxOf(new Float32Array([Number.NaN, 1, Number.NaN, 1]))).toBe(1);
    expect(argmaxOf(new Float32Array([Number.NaN, Number.NaN]))).toBe(0);
    expect(argmaxOf(new Float32Array([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]))).toBe(0);
    expect(() => argmaxOf(new Float32Array([]))).toThrow(GenerationError);
  });

  it('temperature 0 picks the argmax without drawing from the rng', () => {
    const sampler = createSampler({ temperature: 0 }, rngThatMustNotBeUsed);
    expect(sampler.sample(new Float32Array([0.5, 4, -2, 4]), [])).toBe(1);
    const logits = randomLogits(LLAMA3_VOCAB, 3, createSamplingRng(3));
    expect(sampler.sample(logits, [])).toBe(argmaxOf(logits));
  });
});

describe('createSampler', () => {
  it('with temperature and topP only is exactly sampleTopP(softmaxOf(logits / t), topP)', () => {
    const source = createSamplingRng(11);
    const optionsList: SamplingOptions[] = [{}, { temperature: 1.3, topP: 0.5 }, { temperature: 0.2, topP: 1 }];
    for (const options of optionsList) {
      const sampler = createSampler(options, createSamplingRng(8));
      const reference = createSamplingRng(8);
      for (let step = 0; step < 20; step++) {
        const logits = randomLogits(5000, 2, source);
        const expected = sampleTopP(softmaxOf(logits, options.temperature ?? 0.6), options.topP ?? 0.9, reference);
        expect(sampler.sample(logits, [])).toBe(expected);
      }
    }
  });

  it('gives the same token sequence for the same seed and a different one for another seed', () => {
    const logits = randomLogits(LLAMA3_VOCAB, 1, createSamplingRng(4));
    const run = (seed: number) => {
      const sampler = createSampler({ temperature: 1, topP: 0.95 }, createSamplingRng(seed));
      return Array.from({ length: 30 }, () => sampler.sample(logits, []));
    };
    expect(run(123)).toEqual(run(123));
    expect(run(124)).not.toEqual(run(123));
  });

  it('never changes the caller’s logits', () => {
    const logits = new Float32Array([3, 1, 2, -1, 0.5]);
    const before = logits.slice();
    const options: SamplingOptions = { topK: 2, minP: 0.1, repetitionPenalty: 1.5 };
    createSampler(options, createSamplingRng(1)).sample(logits, [0, 1, 2]);
    expect(logits).toEqual(before);
  });

  it('applies the repetition penalty before top-k and min-p', () => {
    // The penalty turns token 0 from the top (5) into 0.5, so top-k 1 then keeps token 1.
    const sampler = createSampler({ temperature: 0, repetitionPenalty: 10, topK: 1 }, rngThatMustNotBeUsed);
    expect(sampler.sample(new Float32Array([5, 4, 3]), [0])).toBe(1);
    const sampling = createSampler({ temperature: 5, topP: 1, topK: 1 }, createSamplingRng(1));
    for (let i = 0; i < 50; i++) expect(sampling.sample(new Float32Array([1, 2, 1.9]), [])).toBe(1);
    const minPOnly = createSampler({ temperature: 5, topP: 1, minP: 0.9 }, createSamplingRng(1));
    for (let i = 0; i < 50; i++) expect(minPOnly.sample(new Float32Array([1, 2, 1.9]), [])).not.toBe(0);
  });

  it('validates options with errors naming the option and its range', () => {
    const cases: [SamplingOptions, RegExp][] = [
      [{ temperature: -1 }, /temperature must be a finite number ≥ 0/],
      [{ temperature: Number.NaN }, /temperature/],
      [{ temperature: Number.POSITIVE_INFINITY }, /temperature/],
      [{ topP: 0 }, /topP must be a number in \(0, 1\]/],
      [{ topP: 1.01 }, /topP/],
      [{ topK: 0 }, /topK must be an integer ≥ 1/],
      [{ topK: 2.5 }, /topK/],
      [{ minP: -0.1 }, /minP must be a number in \[0, 1\]/],
      [{ minP: 1.5 }, /minP/],
      [{ repetitionPenalty: 0 }, /repetitionPenalty must be a finite number > 0/],
      [{ repetitionLastN: -1 }, /repetitionLastN must be an integer ≥ 0/],
    ];
    for (const [options, message] of cases) {
      expect(() => createSampler(options, createSamplingRng(1))).toThrow(GenerationError);
      expect(() => createSampler(options, createSamplingRng(1))).toThrow(message);
    }
  });
});

describe('logits processors', () => {
  it('repetitionPenalty divides positive logits and multiplies the others, once per distinct token', () => {
    const logits = new Float32Array([2, -2, 0, 4, 1]);
    repetitionPenalty(2, 4)(logits, { history: [3, 1, 1, 2, 4, 1] });
    // The last 4 are [1, 2, 4, 1]: token 3 is outside the window; token 1 is penalised once.
    expect(Array.from(logits)).toEqual([2, -4, 0, 4, 0.5]);
    const rewarded = new Float32Array([2, -2]);
    repetitionPenalty(0.5)(rewarded, { history: [0, 1] });
    expect(Array.from(rewarded)).toEqual([4, -1]);
    expect(() => repetitionPenalty(1.1)(new Float32Array(3), { history: [3] })).toThrow(/outside the vocabulary/);
    expect(() => repetitionPenalty(0)).toThrow(/repetitionPenalty/);
  });

  it('occurrencePenalty subtracts presence once and frequency per occurrence, within the window', () => {
    const logits = new Float32Array([2, -2, 0, 4, 1]);
    occurrencePenalty(0.5, 0.25, 4)(logits, { history: [3, 1, 1, 2, 4, 1] });
    // The last 4 are [1, 2, 4, 1]: token 1 twice, tokens 2 and 4 once, token 3 outside the window.
    expect(Array.from(logits)).toEqual([2, -2 - 0.5 - 0.5, 0 - 0.25 - 0.5, 4, 1 - 0.25 - 0.5]);
    const encouraged = new Float32Array([0, 0]);
    occurrencePenalty(-1, 0)(encouraged, { history: [1] });
    expect(Array.from(encouraged)).toEqual([0, 1]);
    expect(() => occurrencePenalty(0, 1)(new Float32Array(3), { history: [3] })).toThrow(/outside the vocabulary/);
    expect(() => occurrencePenalty(2.5, 0)).toThrow(/presencePenalty must be a number in \[-2, 2\]/);
    expect(() => occurrencePenalty(0, -3)).toThrow(/frequencyPenalty/);
  });

  it('createSampler applies presence and frequency penalties and checks their range', () => {
    const sampler = createSampler({ temperature: 0, presencePenalty: 1, frequencyPenalty: 1 }, createSamplingRng(1));
    // Token 0 leads by 1.5 but occurred once: 3 - 1 - 1 = 1 < 1.5.
    expect(sampler.sample(new Float32Array([3, 1.5]), [0])).toBe(1);
    expect(() => createSampler({ frequencyPenalty: 3 }, createSamplingRng(1))).toThrow(/frequencyPenalty must be/);
  });

  it('topLogprobsOf lists the k most likely tokens with their log-probs, lower ids first on a tie', () => {
    const top = topLogprobsOf(new Float32Array([0, 2, 2, 1]), 3);
    expect(top.map((t) => t.token)).toEqual([1, 2, 3]);
    const norm = Math.log(1 + 2 * Math.exp(2) + Math.exp(1));
    expect(top[0]?.logprob).toBeCloseTo(2 - norm, 6);
    expect(top[2]?.logprob).toBeCloseTo(1 - norm, 6);
    expect(topLogprobsOf(new Float32Array([1, 2]), 5)).toHaveLength(2);
    expect(topLogprobsOf(new Float32Array([1, 2]), 0)).toEqual([]);
    expect(() => topLogprobsOf(new Float32Array([1]), -1)).toThrow(/topLogprobs/);
  });

  it('topK keeps exactly k tokens, the lowest ids on a tie', () => {
    const tied = new Float32Array([1, 5, 3, 5, 5]);
    topK(2)(tied, { history: [] });
    expect(Array.from(tied)).toEqual([-Infinity, 5, -Infinity, 5, -Infinity]);
    const plain = new Float32Array([1, 5, 3, 5, 2]);
    topK(3)(plain, { history: [] });
    expect(Array.from(plain)).toEqual([-Infinity, 5, 3, 5, -Infinity]);
    const withNaN = new Float32Array([Number.NaN, 1, 0]);
    topK(2)(withNaN, { history: [] });
    expect(Array.from(withNaN)).toEqual([-Infinity, 1, 0]);
    const all = new Float32Array([1, 2]);
    topK(5)(all, { history: [] });
    expect(Array.from(all)).toEqual([1, 2]);
    expect(() => topK(0)).toThrow(/topK/);
  });

  it('topK matches a full sort on a large vocabulary with ties', () => {
    const logits = randomLogits(LLAMA3_VOCAB, 3, createSamplingRng(12)).map(Math.round);
    const kept = logits.slice();
    topK(40)(kept, { history: [] });
    const expected = new Set(fullySortedOrder(logits).slice(0, 40));
    kept.forEach((value, i) => {
      expect(value).toBe(expected.has(i) ? logits[i] : Number.NEGATIVE_INFINITY);
    });
  });

  it('minP removes tokens below p × the top probability', () => {
    const half = Math.log(0.5);
    const logits = new Float32Array([2, 2 + half + 0.01, 2 + half - 0.01, Number.NEGATIVE_INFINITY, 1.5]);
    const probs = softmaxOf(logits);
    minP(0.5)(logits, { history: [] });
    logits.forEach((value, i) => {
      const removed = (probs[i] as number) < 0.5 * (probs[0] as number);
      expect(value === Number.NEGATIVE_INFINITY).toBe(removed);
    });
    expect(logits[2]).toBe(Number.NEGATIVE_INFINITY);
    expect(logits[1]).not.toBe(Number.NEGATIVE_INFINITY);
    const untouched = new Float32Array([1, -50]);
    minP(0)(untouched, { history: [] });
    expect(Array.from(untouched)).toEqual([1, -50]);
    expect(() => minP(2)).toThrow(/minP/);
  });

  it('temperature divides the logits', () => {
    const logits = new Float32Array([2, -4, 0]);
    temperature(2)(logits, { history: [] });
    expect(Array.from(logits)).toEqual([1, -2, 0]);
    expect(() => temperature(0)).toThrow(/temperature must be a finite number > 0/);
  });
});

describe('timing (report only)', () => {
  it('prints the time of one sample() on 128256 logits', () => {
    const cases: [string, Float32Array, SamplingOptions][] = [
      ['random N(0,1) logits, t 0.6 p 0.9', randomLogits(LLAMA3_VOCAB, 1, createSamplingRng(21)), {}],
      ['random N(0,3) logits, t 0.6 p 0.9', randomLogits(LLAMA3_VOCAB, 3, createSamplingRng(22)), {}],
      ['random N(0,1) logits, top-k 40', randomLogits(LLAMA3_VOCAB, 1, createSamplingRng(23)), { topK: 40 }],
      ['random N(0,1) logits, greedy', randomLogits(LLAMA3_VOCAB, 1, createSamplingRng(24)), { temperature: 0 }],
    ];
    for (const [name, logits, options] of cases) {
      const sampler = createSampler(options, createSamplingRng(1));
      for (let i = 0; i < 10; i++) sampler.sample(logits, []);
      const runs = 50;
      const start = performance.now();
      for (let i = 0; i < runs; i++) sampler.sample(logits, []);
      console.log(`sample() ${name}: ${((performance.now() - start) / runs).toFixed(2)} ms`);
    }
  });
});
