import { byteSize, type DType, numElements } from '../dtype.js';
import { copyBlockRows, isBlockDType } from '../quant/layout.js';

/**
 * A WebGPU tensor is one buffer, or, when it is larger than one binding allows, several buffers
 * that each hold a run of whole rows (dim 0) in the dtype's own layout. The Llama 3 8B output
 * matrix (128256 x 4096, 1 GiB in f16) is the case that needs it.
 */
export interface GpuChunk {
  buffer: GPUBuffer;
  /** Bytes used in `buffer` (the buffer itself may be larger: it comes from a pool). */
  byteLength: number;
  rowStart: number;
  rowCount: number;
}

export interface GpuStorage {
  chunks: GpuChunk[];
}

/** Rows and columns as chunking sees them: dim 0, and the product of the rest. */
export function rowsAndCols(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  return [shape[0] as number, numElements(shape.slice(1))];
}

/** Row runs of at most `maxBytes` each; one run when the tensor fits. */
export function planChunks(
  dtype: DType,
  shape: readonly number[],
  maxBytes: number,
): { rowStart: number; rowCount: number }[] {
  const [rows, cols] = rowsAndCols(shape);
  if (byteSize(dtype, rows * cols) <= maxBytes || rows <= 1) return [{ rowStart: 0, rowCount: rows }];
  let perChunk = Math.max(1, Math.floor(rows * (maxBytes / byteSize(dtype, rows * cols))));
  while (perChunk > 1 && byteSize(dtype, perChunk * cols) > maxBytes) perChunk--;
  const plan = [];
  for (let start = 0; start < rows; start += perChunk)
    plan.push({ rowStart: start, rowCount: Math.min(perChunk, rows - start) });
  return plan;
}

/** The bytes of rows [rowStart, rowStart + rowCount) of a tensor, laid out as a tensor of their own. */
export function sliceRows(
  dtype: DType,
  bytes: Uint8Array,
  shape: readonly number[],
  rowStart: number,
  rowCount: number,
): Uint8Array {
  const [rows, cols] = rowsAndCols(shape);
  if (rowStart === 0 && rowCount === rows) return bytes;
  const out = new Uint8Array(byteSize(dtype, rowCount * cols));
  if (isBlockDType(dtype)) {
    // q8_0 and the 4-6-bit formats: the rows' run in each plane (see quant/layout.ts).
    copyBlockRows(dtype, cols, bytes, rows * cols, rowStart, out, rowCount * cols, 0, rowCount);
  } else {
    const rowBytes = cols * (dtype === 'f16' ? 2 : 4);
    out.set(bytes.subarray(rowStart * rowBytes, (rowStart + rowCount) * rowBytes), 0);
  }
  return out;
}

/** The inverse of sliceRows: writes a chunk's bytes into the whole tensor's bytes. */
export function placeRows(
  dtype: DType,
  whole: Uint8Array,
  shape: readonly number[],
  chunk: Uint8Array,
  rowStart: number,
  rowCount: number,
): void {
  const [rows, cols] = rowsAndCols(shape);
  if (isBlockDType(dtype)) {
    copyBlockRows(dtype, cols, chunk, rowCount * cols, 0, whole, rows * cols, rowStart, rowCount);
  } else {
    const rowBytes = cols * (dtype === 'f16' ? 2 : 4);
    whole.set(chunk.subarray(0, rowCount * rowBytes), rowStart * rowBytes);
  }
}
