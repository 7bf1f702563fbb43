/**
 * Element types and their storage layouts. Everything is computed in f32; f16 and q8_0 exist to
 * halve or quarter the bytes that matrix-vector products stream from memory.
 *
 * - f32: 4 bytes per element.
 * - f16: IEEE half, 2 bytes per element, little-endian (read in WGSL with unpack2x16float, so no
 *   `shader-f16` feature is needed).
 * - q8_0: llama.cpp's 8-bit format: blocks of 32 consecutive elements along the last axis, each
 *   block one f16 scale d and 32 int8 quants q, value = d * q. Stored split rather than interleaved
 *   so every GPU read is aligned: all quants first (one byte per element), then all scales (f16),
 *   each region padded to 4 bytes. The last axis must be a multiple of 32.
 * - q4_0, q4_1, q4_k, q5_k, q6_k: llama.cpp's 4-, 5- and 6-bit block formats (blocks of 32 or 256
 *   elements along the last axis, whose length must be a multiple of the block), stored as q8_0 is:
 *   ggml's bytes, split into planes (quants, scales, ...) each padded to 4 bytes. Their layouts,
 *   quantisers and dequantisation are in quant/ (layout.ts says how each block is packed).
 * - i32: token ids and argmax results.
 * bf16 is not a storage type: bf16 checkpoints are converted to f32 or f16 on upload.
 */
import { F16_TABLE, f16BitsToF32, f32ToF16Bits } from './half.js';
import { dequantizeBlocks } from './quant/dequantize.js';
import { BLOCK_FORMATS, type BlockDType, blockStorageBytes, isBlockDType } from './quant/layout.js';
import { quantizeBlocks } from './quant/quantize.js';

export { F16_TABLE, f16BitsToF32, f32ToF16Bits };

export type DType = 'f32' | 'f16' | BlockDType | 'i32';

/** Floating-point dtypes a weight may have; activations are always f32, token ids i32. */
export type WeightDType = 'f32' | 'f16' | BlockDType;

/** Every weight dtype, in order of bytes per element (most first). */
export const WEIGHT_DTYPES: readonly WeightDType[] = ['f32', 'f16', 'q8_0', 'q6_k', 'q5_k', 'q4_1', 'q4_k', 'q4_0'];

/** Elements per block of a block dtype (the multiple a row's length must be), 1 for the others. */
export function blockElements(dtype: DType): number {
  return isBlockDType(dtype) ? BLOCK_FORMATS[dtype].blockElements : 1;
}

export const Q8_0_BLOCK = 32;

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

const align4 = (bytes: number) => Math.ceil(bytes / 4) * 4;

/** Bytes a tensor of this dtype and element count occupies (padded to a multiple of 4). */
export function byteSize(dtype: DType, elements: number): number {
  switch (dtype) {
    case 'f32':
    case 'i32':
      return elements * 4;
    case 'f16':
      return align4(elements * 2);
    case 'q8_0':
      return align4(elements) + align4((elements / Q8_0_BLOCK) * 2);
    default:
      return blockStorageBytes(dtype, elements);
  }
}

/** Byte offset of the q8_0 scales region. */
export function q8_0ScalesOffset(elements: number): number {
  return align4(elements);
}

// ---------------------------------------------------------------------------------------------
// Conversions (plain loops over typed arrays; no per-element allocation)

export function f32ToF16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i] as number);
  return out;
}

export function f16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = F16_TABLE[bits[i] as number] as number;
  return out;
}

/** bf16 is the top half of an f32, so widening is a shift. */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = (bits[i] as number) << 16;
  return new Float32Array(out.buffer);
}

let bf16ToF16Table: Uint16Array | undefined;

/**
 * bf16 → f16 bits without an f32 array in between (exact for values in f16's normal range), through
 * a 65536-entry table: loading a checkpoint converts hundreds of millions of values.
 */
export function bf16ToF16(bits: Uint16Array): Uint16Array {
  if (!bf16ToF16Table) {
    const f32Scratch = new Float32Array(1);
    const u32Scratch = new Uint32Array(f32Scratch.buffer);
    bf16ToF16Table = new Uint16Array(65536);
    for (let b = 0; b < 65536; b++) {
      u32Scratch[0] = b << 16;
      bf16ToF16Table[b] = f32ToF16Bits(f32Scratch[0] as number);
    }
  }
  const table = bf16ToF16Table;
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i] as number] as number;
  return out;
}

/** Index of the first NaN or infinity in raw little-endian values of this dtype, or -1. */
export function firstNonFinite(dtype: 'f32' | 'f16' | 'bf16', bytes: Uint8Array): number {
  if (dtype === 'f32') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < bytes.byteLength / 4; i++) {
      if (((view.getUint32(i * 4, true) >>> 23) & 0xff) === 0xff) return i;
    }
    return -1;
  }
  // Exponent all ones: f16 has 5 exponent bits below the sign, bf16 has 8.
  const mask = dtype === 'f16' ? 0x7c00 : 0x7f80;
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  const halves = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1);
  for (let i = 0; i < halves.length; i++) {
    if (((halves[i] as number) & mask) === mask) return i;
  }
  return -1;
}

/** Quantises to q8_0 bytes (layout above): d = max|x| / 127 per block, q = round(x / d). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK !== 0) {
    throw new RangeError(`q8_0 needs a multiple of ${Q8_0_BLOCK} elements, got ${values.length}`);
  }
  const bytes = new Uint8Array(byteSize('q8_0', values.length));
  const quants = new Int8Array(bytes.buffer, 0, values.length);
  const scales = new Uint16Array(bytes.buffer, q8_0ScalesOffset(values.length), values.length / Q8_0_BLOCK);
  for (let block = 0; block < scales.length; block++) {
    const start = block * Q8_0_BLOCK;
    let amax = 0;
    for (let i = start; i < start + Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(values[i] as number));
    const scaleBits = f32ToF16Bits(amax / 127);
    scales[block] = scaleBits;
    // Quantise against the scale as stored (f16), so dequantisation reproduces the rounding.
    const d = f16BitsToF32(scaleBits);
    const inverse = d === 0 ? 0 : 1 / d;
    for (let i = start; i < start + Q8_0_BLOCK; i++) {
      quants[i] = Math.max(-127, Math.min(127, Math.round((values[i] as number) * inverse)));
    }
  }
  return bytes;
}

export function dequantizeQ8_0(input: Uint8Array, elements: number): Float32Array {
  const bytes = input.byteOffset % 4 === 0 ? input : input.slice();
  const quants = new Int8Array(bytes.buffer, bytes.byteOffset, elements);
  const scales = new Uint16Array(bytes.buffer, bytes.byteOffset + q8_0ScalesOffset(elements), elements / Q8_0_BLOCK);
  const out = new Float32Array(elements);
  for (let i = 0; i < elements; i++)
    out[i] = (quants[i] as number) * f16BitsToF32(scales[(i / Q8_0_BLOCK) | 0] as number);
  return out;
}

/** Storage bytes of f32 values in the given dtype. */
export function encodeAs(dtype: DType, values: Float32Array): Uint8Array {
  switch (dtype) {
    case 'f32':
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case 'i32':
      return new Uint8Array(Int32Array.from(values).buffer);
    case 'f16': {
      const bits = f32ToF16(values);
      const padded = new Uint8Array(byteSize('f16', values.length));
      padded.set(new Uint8Array(bits.buffer));
      return padded;
    }
    case 'q8_0':
      return quantizeQ8_0(values);
    default:
      return quantizeBlocks(dtype, values);
  }
}

/** f32 values of storage bytes in the given dtype. */
export function decodeFrom(dtype: DType, bytes: Uint8Array, elements: number): Float32Array {
  switch (dtype) {
    case 'f32':
      return new Float32Array(bytes.slice(0, elements * 4).buffer);
    case 'i32':
      return Float32Array.from(new Int32Array(bytes.slice(0, elements * 4).buffer));
    case 'f16':
      return f16ToF32(new Uint16Array(bytes.slice(0, elements * 2).buffer));
    case 'q8_0':
      return dequantizeQ8_0(bytes, elements);
    default: {
      const out = new Float32Array(elements);
      dequantizeBlocks(dtype, bytes, elements, 0, elements / BLOCK_FORMATS[dtype].blockElements, out);
      return out;
    }
  }
}
