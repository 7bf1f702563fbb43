import type { Backend } from '../../backend.js';
import { fromArray } from '../../create.js';
import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { expectEqual, expectInteger, expectSameBackend, expectTensor } from '../check.js';
import type { CacheRows } from '../kvWrite/cache-rows.js';

export interface RopeTableOptions {
  /**
   * The rotation frequency of each pair j < headDim / 2, in float64: 1 / theta^(2j / headDim) for
   * the standard RoPE, rescaled by the model where it says so (Llama 3.1: @llama-ts/model's
   * `ropeFrequencies`).
   */
  frequencies: Float64Array;
  /** Positions 0..positions-1 get a row (the reference precomputes 2 * max_seq_len). */
  positions: number;
}

/**
 * cos and sin of every rotation angle t·f, f32 [positions, frequencies.length, 2] (a head of
 * 2 · frequencies.length dims). The angles are formed in float64 before cos/sin: in f32 they
 * drift enough to move log-probs by 1e-3 at position 4000+.
 */
export function ropeTable(backend: Backend, options: RopeTableOptions): Tensor {
  const { frequencies: freqs, positions } = options;
  if (!(freqs instanceof Float64Array) || freqs.length < 1) {
    throw new KernelError('ropeTable: frequencies must be a non-empty Float64Array (one per pair of a head)');
  }
  expectInteger('ropeTable', 'positions', positions, 1);
  const half = freqs.length;
  const table = new Float32Array(positions * half * 2);
  for (let t = 0; t < positions; t++) {
    for (let j = 0; j < half; j++) {
      const angle = t * (freqs[j] as number);
      table[(t * half + j) * 2] = Math.cos(angle);
      table[(t * half + j) * 2 + 1] = Math.sin(angle);
    }
  }
  return fromArray(backend, table, [positions, half, 2]);
}

interface RopeLayout {
  /** 'interleaved' for Meta checkpoints, 'half' for Hugging Face's permuted q/k rows. */
  layout: 'interleaved' | 'half';
  /** Rotate by the negative angle: rope's transpose, i.e. its backward (dX = rope(dY, { inverse: true })). */
  inverse?: boolean;
}

/** Every row at positions startPos.., or row b at rows.rows[b].startPos.. (continuous batching). */
export type RopeOptions = RopeLayout &
  ({ startPos: number; rows?: undefined } | { rows: CacheRows; startPos?: undefined });

/** Rotates x [B, T, H, Dh] (queries or keys) at positions startPos..startPos+T-1 (or each row's own). */
export function rope(x: Tensor, table: Tensor, options: RopeOptions): Tensor {
  const rows = options.rows;
  const backend = expectSameBackend('rope', rows ? [x, table, rows.tensor] : [x, table]);
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
  if (rows) rows.check('rope', batch, tokens, positions);
  else expectInteger('rope', 'startPos', options.startPos as number, 0, positions - tokens);
  if (options.layout !== 'interleaved' && options.layout !== 'half') {
    throw new KernelError(`rope: layout must be 'interleaved' or 'half', got ${String(options.layout)}`);
  }
  const y = backend.allocate('f32', x.shape);
  backend.dispatch(
    'rope',
    rows ? { x, table, rows: rows.tensor } : { x, table },
    { y },
    {
      batch,
      tokens,
      heads,
      headDim,
      startPos: rows ? rows.maxStartPos : (options.startPos as number),
      layout: options.layout,
      inverse: options.inverse ?? false,
    },
  );
  return y;
}
