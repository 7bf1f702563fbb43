import { describe, expect, it } from 'vitest';
import { constantLr, cosineLr, learningRate, lrAt } from '../src/schedule.js';

const options = { maxLr: 1e-3, minLr: 1e-4, warmupSteps: 10, totalSteps: 110 };

describe('lrAt: warmup then cosine', () => {
  it('warms up linearly to maxLr', () => {
    expect(lrAt(0, options)).toBeCloseTo(1e-4, 12);
    expect(lrAt(4, options)).toBeCloseTo(5e-4, 12);
    expect(lrAt(9, options)).toBeCloseTo(1e-3, 12);
    expect(lrAt(10, options)).toBeCloseTo(1e-3, 12);
  });

  it('decays by half a cosine to minLr and stays there', () => {
    expect(lrAt(60, options)).toBeCloseTo(5.5e-4, 12);
    expect(lrAt(35, options)).toBeCloseTo(1e-4 + 0.5 * (1 + Math.cos(Math.PI / 4)) * 9e-4, 12);
    expect(lrAt(110, options)).toBe(1e-4);
    expect(lrAt(500, options)).toBe(1e-4);
    let previous = Number.POSITIVE_INFINITY;
    for (let step = 10; step <= 110; step++) {
      const lr = lrAt(step, options);
      expect(lr).toBeLessThanOrEqual(previous);
      previous = lr;
    }
  });

  it('works without warmup', () => {
    expect(lrAt(0, { ...options, warmupSteps: 0 })).toBeCloseTo(1e-3, 12);
  });

  it('validates', () => {
    expect(() => lrAt(-1, options)).toThrow(/step must be an integer/);
    expect(() => lrAt(0, { ...options, minLr: 2e-3 })).toThrow(/minLr .* above maxLr/);
    expect(() => lrAt(0, { ...options, warmupSteps: 200 })).toThrow(/more than totalSteps/);
    expect(() => constantLr(Number.NaN)).toThrow(/lr must be a finite number/);
  });
});

describe('schedules', () => {
  it('constant gives the same rate every step; learningRate dispatches', () => {
    const constant = constantLr(1e-3);
    expect([0, 1, 2499].map((s) => learningRate(constant, s))).toEqual([1e-3, 1e-3, 1e-3]);
    expect(learningRate(cosineLr(options), 60)).toBe(lrAt(60, options));
  });
});
