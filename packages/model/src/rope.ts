import { ModelError } from './errors.js';

/** Llama 3.1's frequency scaling (llama-models `apply_scaling`; HF `rope_scaling` with rope_type llama3). */
export interface RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

export const LLAMA31_ROPE_SCALING: RopeScaling = {
  factor: 8,
  lowFreqFactor: 1,
  highFreqFactor: 4,
  originalMaxPositions: 8192,
};

/**
 * The rotation frequencies 1 / theta^(2j / headDim), j < headDim / 2, optionally Llama 3.1-scaled,
 * in float64: what the kernels' `ropeTable` turns into its cos/sin table. `freqFactors` (one divisor
 * per frequency, llama.cpp's `rope_freqs.weight`) replaces `scaling` when given.
 */
export function ropeFrequencies(
  headDim: number,
  theta: number,
  scaling?: RopeScaling,
  freqFactors?: readonly number[],
): Float64Array {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
    throw new ModelError(`ropeFrequencies: headDim must be an even integer >= 2, got ${headDim}`);
  }
  if (!(theta > 0)) throw new ModelError(`ropeFrequencies: theta must be positive, got ${theta}`);
  const freqs = new Float64Array(headDim / 2);
  if (freqFactors !== undefined && freqFactors.length !== freqs.length) {
    throw new ModelError(`ropeFrequencies: ${freqFactors.length} frequency factors for ${freqs.length} frequencies`);
  }
  for (let j = 0; j < freqs.length; j++) {
    const f = 1 / theta ** ((2 * j) / headDim);
    freqs[j] = freqFactors ? f / (freqFactors[j] as number) : scaling ? scaleFrequency(f, scaling) : f;
  }
  return freqs;
}

function scaleFrequency(f: number, s: RopeScaling): number {
  const wavelength = (2 * Math.PI) / f;
  const lowFreqWavelength = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelength = s.originalMaxPositions / s.highFreqFactor;
  if (wavelength < highFreqWavelength) return f;
  if (wavelength > lowFreqWavelength) return f / s.factor;
  const smooth = (s.originalMaxPositions / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  return (1 - smooth) * (f / s.factor) + smooth * f;
}
