// RoPE frequencies: the standard spectrum, Llama 3.1's rescaling, and the checks that moved here
// from the kernels' ropeTable (kernels take any frequencies; the model knows headDim and theta).
import { describe, expect, it } from 'vitest';
import { LLAMA31_ROPE_SCALING, ModelError, ropeFrequencies } from '../src/index.js';

describe('ropeFrequencies', () => {
  it('gives 1 / theta^(2j / headDim) in float64', () => {
    const freqs = ropeFrequencies(8, 10000);
    expect(freqs).toBeInstanceOf(Float64Array);
    expect(Array.from(freqs)).toEqual([0, 1, 2, 3].map((j) => 1 / 10000 ** ((2 * j) / 8)));
  });

  it('Llama 3.1 scaling keeps short wavelengths, divides long ones by the factor, blends between', () => {
    const plain = ropeFrequencies(128, 500000);
    const scaled = ropeFrequencies(128, 500000, LLAMA31_ROPE_SCALING);
    const { factor, originalMaxPositions, lowFreqFactor, highFreqFactor } = LLAMA31_ROPE_SCALING;
    plain.forEach((f, j) => {
      const wavelength = (2 * Math.PI) / f;
      const s = scaled[j] as number;
      if (wavelength < originalMaxPositions / highFreqFactor) expect(s).toBe(f);
      else if (wavelength > originalMaxPositions / lowFreqFactor) expect(s).toBe(f / factor);
      else {
        expect(s).toBeGreaterThan(f / factor);
        expect(s).toBeLessThan(f);
      }
    });
  });

  it('checks headDim and theta', () => {
    expect(() => ropeFrequencies(7, 10000)).toThrow(ModelError);
    expect(() => ropeFrequencies(7, 10000)).toThrow(/headDim must be an even integer/);
    expect(() => ropeFrequencies(8, 0)).toThrow(/theta must be positive/);
  });
});
