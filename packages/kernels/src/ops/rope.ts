import type { Backend } from '../backend.js';
import { KernelError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { expectEqual, expectInteger, expectSameBackend, expectTensor } from './check.js';
import { fromArray } from './create.js';

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

export interface RopeTableOptions {
  headDim: number;
  /** Positions 0..positions-1 get a row (the reference precomputes 2 * max_seq_len). */
  positions: number;
  theta: number;
  scaling?: RopeScaling;
}

/** The rotation frequencies 1 / theta^(2j / headDim), j < headDim / 2, optionally Llama 3.1-scaled (float64). */
export function ropeFrequencies(headDim: number, theta: number, scaling?: RopeScaling): Float64Array {
  const freqs = new Float64Array(headDim / 2);
  for (let j = 0; j < freqs.length; j++) {
    const f = 1 / theta ** ((2 * j) / headDim);
    freqs[j] = scaling ? scaleFrequency(f, scaling) : f;
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

/**
 * cos and sin of every rotation angle, f32 [positions, headDim / 2, 2]. The angles t·f are formed
 * in float64 before cos/sin: in f32 they drift enough to move log-probs by 1e-3 at position 4000+.
 */
export function ropeTable(backend: Backend, options: RopeTableOptions): Tensor {
  const { headDim, positions, theta, scaling } = options;
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
    throw new KernelError(`ropeTable: headDim must be an even integer >= 2, got ${headDim}`);
  }
  expectInteger('ropeTable', 'positions', positions, 1);
  if (!(theta > 0)) throw new KernelError(`ropeTable: theta must be positive, got ${theta}`);
  const freqs = ropeFrequencies(headDim, theta, scaling);
  const half = headDim / 2;
  const table = new Float32Array(positions * headDim);
  for (let t = 0; t < positions; t++) {
    for (let j = 0; j < half; j++) {
      const angle = t * (freqs[j] as number);
      table[(t * half + j) * 2] = Math.cos(angle);
      table[(t * half + j) * 2 + 1] = Math.sin(angle);
    }
  }
  return fromArray(backend, table, [positions, half, 2]);
}

export interface RopeOptions {
  startPos: number;
  /** 'interleaved' for Meta checkpoints, 'half' for Hugging Face's permuted q/k rows. */
  layout: 'interleaved' | 'half';
  /** Rotate by the negative angle: rope's transpose, i.e. its backward (dX = rope(dY, { inverse: true })). */
  inverse?: boolean;
}

/** Rotates x [B, T, H, Dh] (queries or keys) at positions startPos..startPos+T-1. */
export function rope(x: Tensor, table: Tensor, options: RopeOptions): Tensor {
  const backend = expectSameBackend('rope', [x, table]);
  const [batch, tokens, heads, headDim] = expectTensor('rope', 'x', x, ['B', 'T', 'H', 'Dh'], ['f32']) as [
    number,
    number,
    number,
    number,
  ];
  const [positions, half, two] = expectTensor('rope', 'table', table, ['P', 'Dh/2', '2'], ['f32']) as [
    number,
    number,
    number,
  ];
  expectEqual('rope', 'table.shape[1] (Dh/2)', half, headDim / 2);
  expectEqual('rope', 'table.shape[2]', two, 2);
  expectInteger('rope', 'startPos', options.startPos, 0, positions - tokens);
  if (options.layout !== 'interleaved' && options.layout !== 'half') {
    throw new KernelError(`rope: layout must be 'interleaved' or 'half', got ${String(options.layout)}`);
  }
  const y = backend.allocate('f32', x.shape);
  backend.dispatch('rope', [x, table], [y], {
    batch,
    tokens,
    heads,
    headDim,
    startPos: options.startPos,
    layout: options.layout,
    inverse: options.inverse ?? false,
  });
  return y;
}
