import { describe, expect, it } from 'vitest';
import { TrainingRng } from '../src/rng.js';

describe('TrainingRng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new TrainingRng(42);
    const b = new TrainingRng(42);
    const c = new TrainingRng(43);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(seqA);
    expect(seqA.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it('resumes exactly from a saved state', () => {
    const rng = new TrainingRng(7);
    for (let i = 0; i < 100; i++) rng.next();
    const saved = rng.state();
    const expected = Array.from({ length: 20 }, () => rng.int(1000));
    const restored = TrainingRng.fromState(JSON.parse(JSON.stringify(saved)));
    expect(Array.from({ length: 20 }, () => restored.int(1000))).toEqual(expected);
  });

  it('draws uniform floats, bounded ints and normals with the right moments', () => {
    const rng = new TrainingRng(1);
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    const counts = new Array(10).fill(0);
    let inRange = true;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      inRange &&= u >= 0 && u < 1;
      counts[rng.int(10)]++;
      const z = rng.normal(0, 2);
      sum += z;
      sumSq += z * z;
    }
    expect(inRange).toBe(true);
    for (const c of counts) expect(Math.abs(c / n - 0.1)).toBeLessThan(0.005);
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(sumSq / n) - 2)).toBeLessThan(0.03);
  });

  it('rejects bad seeds, states and ranges', () => {
    expect(() => new TrainingRng(1.5)).toThrow(/seed must be an integer/);
    expect(() => TrainingRng.fromState([0, 0, 0, 0])).toThrow(/not all zero/);
    expect(() => TrainingRng.fromState([1, 2, 3] as unknown as [number, number, number, number])).toThrow(
      /four uint32/,
    );
    expect(() => new TrainingRng(1).int(0)).toThrow(/n must be/);
  });
});
