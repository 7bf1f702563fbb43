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
 * - i32: token ids and argmax results.
 * bf16 is not a storage type: bf16 checkpoints are converted to f32 or f16 on upload.
 */
export type DType = 'f32' | 'f16' | 'q8_0' | 'i32';

/** Floating-point dtypes a weight may have; activations are always f32, token ids i32. */
export type WeightDType = 'f32' | 'f16' | 'q8_0';

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
  }
}

/** Byte offset of the q8_0 scales region. */
export function q8_0ScalesOffset(elements: number): number {
  return align4(elements);
}

// ---------------------------------------------------------------------------------------------
// Conversions (plain loops over typed arrays; no per-element allocation)

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f32 → f16 bits, round to nearest even, with subnormals, infinities and NaN. */
export function f32ToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // inf / NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mantissa |= 0x800000; // implicit leading 1
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let result = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > half || (rest === half && result & 1)) result++;
    return sign | result;
  }
  let result = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && result & 1)) result++; // may carry into the exponent: correct
  return sign | result;
}

/** f16 bits → value, for every one of the 65536 bit patterns. */
export const F16_TABLE: Float32Array = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) table[h] = mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
})();

export function f16BitsToF32(bits: number): number {
  return F16_TABLE[bits & 0xffff] as number;
}

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
  }
}
