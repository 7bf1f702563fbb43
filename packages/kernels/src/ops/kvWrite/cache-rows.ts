import type { Backend } from '../../backend.js';
import { fromArray } from '../../create.js';
import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';

/** Where one row (sequence) of a batch sits in the KV cache: its slot and its first new token's position. */
export interface CacheRow {
  slot: number;
  startPos: number;
}

/**
 * Per-row cache positions for rope, kvWrite and attention: row b of the batch is in cache slot
 * `rows[b].slot`, its new tokens at positions `rows[b].startPos..` (continuous batching: each
 * sequence at its own place). Uploaded once as an i32 [B, 2] tensor of (slot, startPos) pairs, so
 * that a forward pass's many ops share one small write; dispose it after the ops are recorded.
 */
export class CacheRows {
  readonly rows: readonly CacheRow[];
  /** i32 [B, 2]: (slot, startPos) of each row, as the kernels read it. */
  readonly tensor: Tensor;
  /** The largest startPos of any row (what sizes the kernels' scratch and key splits). */
  readonly maxStartPos: number;

  constructor(backend: Backend, rows: readonly CacheRow[]) {
    if (!Array.isArray(rows) || rows.length === 0) {
      throw new KernelError('cacheRows: rows must be a non-empty array of { slot, startPos }');
    }
    const seen = new Set<number>();
    rows.forEach((row, b) => {
      if (!Number.isInteger(row?.slot) || row.slot < 0) {
        throw new KernelError(`cacheRows: rows[${b}].slot must be an integer ≥ 0, got ${row?.slot}`);
      }
      if (!Number.isInteger(row.startPos) || row.startPos < 0) {
        throw new KernelError(`cacheRows: rows[${b}].startPos must be an integer ≥ 0, got ${row.startPos}`);
      }
      // Two rows writing one slot would race in kvWrite: each sequence has a slot of its own.
      if (seen.has(row.slot)) throw new KernelError(`cacheRows: rows[${b}].slot ${row.slot} is used by another row`);
      seen.add(row.slot);
    });
    this.rows = rows.map(({ slot, startPos }) => ({ slot, startPos }));
    this.maxStartPos = Math.max(...rows.map((row) => row.startPos));
    this.tensor = fromArray(
      backend,
      rows.flatMap((row) => [row.slot, row.startPos]),
      [rows.length, 2],
      'i32',
    );
  }

  get batch(): number {
    return this.rows.length;
  }

  /** Checks that every row's `tokens` positions fit `maxSeqLen` and its slot fits `slots` (and the batch size). */
  check(op: string, batch: number, tokens: number, maxSeqLen: number, slots?: number): void {
    if (this.tensor.disposed) throw new KernelError(`${op}: the cache rows have been disposed`);
    if (batch !== this.rows.length) {
      throw new KernelError(`${op}: ${this.rows.length} cache rows given for a batch of ${batch}`);
    }
    this.rows.forEach(({ slot, startPos }, b) => {
      if (startPos + tokens > maxSeqLen) {
        throw new KernelError(
          `${op}: row ${b}'s positions ${startPos}..${startPos + tokens - 1} do not fit ${maxSeqLen} positions`,
        );
      }
      if (slots !== undefined && slot >= slots) {
        throw new KernelError(`${op}: row ${b}'s slot ${slot} does not fit a cache of ${slots} slots`);
      }
    });
  }

  dispose(): void {
    this.tensor.dispose();
  }
}

/** Per-row cache positions on `backend` (see CacheRows). */
export function cacheRows(backend: Backend, rows: readonly CacheRow[]): CacheRows {
  return new CacheRows(backend, rows);
}
