import { blockElements, f16BitsToF32, Q8_0_BLOCK, q8_0ScalesOffset } from '../dtype.js';
import { dequantizeBlocks } from '../quant/dequantize.js';
import { isBlockDType } from '../quant/layout.js';
import type { Tensor } from '../tensor.js';

/** CPU storage is one Uint8Array per tensor, over a 4-byte-aligned ArrayBuffer of its own. */
export function bytesOf(t: Tensor): Uint8Array {
  return t.storage as Uint8Array;
}

export function f32(t: Tensor): Float32Array {
  const bytes = bytesOf(t);
  return new Float32Array(bytes.buffer, bytes.byteOffset, t.size);
}

export function i32(t: Tensor): Int32Array {
  const bytes = bytesOf(t);
  return new Int32Array(bytes.buffer, bytes.byteOffset, t.size);
}

/**
 * Reads rows of a [rows, cols] weight of any weight dtype into an f32 buffer: the one place the
 * CPU backend knows the f16 and q8_0 layouts (the 4-6-bit block formats are dequantised by
 * quant/dequantize.ts, each value rounded to f32 once). f32 rows are returned as views, without a copy.
 */
export function weightRowReader(t: Tensor, cols: number): (row: number, scratch: Float32Array) => Float32Array {
  const bytes = bytesOf(t);
  const { dtype } = t;
  if (isBlockDType(dtype) && dtype !== 'q8_0') {
    const perRow = cols / blockElements(dtype);
    return (row, scratch) => {
      dequantizeBlocks(dtype, bytes, t.size, row * perRow, perRow, scratch);
      return scratch;
    };
  }
  switch (t.dtype) {
    case 'f32': {
      const values = f32(t);
      return (row) => values.subarray(row * cols, (row + 1) * cols);
    }
    case 'f16': {
      const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, t.size);
      return (row, scratch) => {
        const base = row * cols;
        for (let k = 0; k < cols; k++) scratch[k] = f16BitsToF32(bits[base + k] as number);
        return scratch;
      };
    }
    case 'q8_0': {
      const quants = new Int8Array(bytes.buffer, bytes.byteOffset, t.size);
      const scales = new Uint16Array(bytes.buffer, bytes.byteOffset + q8_0ScalesOffset(t.size), t.size / Q8_0_BLOCK);
      return (row, scratch) => {
        const base = row * cols;
        for (let block = 0; block < cols / Q8_0_BLOCK; block++) {
          const d = f16BitsToF32(scales[base / Q8_0_BLOCK + block] as number);
          const start = block * Q8_0_BLOCK;
          for (let k = start; k < start + Q8_0_BLOCK; k++) scratch[k] = (quants[base + k] as number) * d;
        }
        return scratch;
      };
    }
    default:
      throw new Error(`weightRowReader: ${t.dtype} is not a weight dtype`);
  }
}
