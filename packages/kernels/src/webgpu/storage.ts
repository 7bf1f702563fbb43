import { byteSize, type DType, numElements, Q8_0_BLOCK, q8_0ScalesOffset } from '../dtype.js';

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
  if (dtype === 'q8_0') {
    out.set(bytes.subarray(rowStart * cols, (rowStart + rowCount) * cols), 0);
    const blocksPerRow = cols / Q8_0_BLOCK;
    const scales = q8_0ScalesOffset(rows * cols) + rowStart * blocksPerRow * 2;
    out.set(bytes.subarray(scales, scales + rowCount * blocksPerRow * 2), q8_0ScalesOffset(rowCount * cols));
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
  if (dtype === 'q8_0') {
    whole.set(chunk.subarray(0, rowCount * cols), rowStart * cols);
    const blocksPerRow = cols / Q8_0_BLOCK;
    const from = q8_0ScalesOffset(rowCount * cols);
    whole.set(
      chunk.subarray(from, from + rowCount * blocksPerRow * 2),
      q8_0ScalesOffset(rows * cols) + rowStart * blocksPerRow * 2,
    );
  } else {
    const rowBytes = cols * (dtype === 'f16' ? 2 : 4);
    whole.set(chunk.subarray(0, rowCount * rowBytes), rowStart * rowBytes);
  }
}
