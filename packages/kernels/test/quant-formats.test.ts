// llama.cpp's block formats (q4_0, q4_1, q4_k, q5_k, q6_k; q8_0 in the same scheme): byte sizes,
// ggml blocks ↔ llama-ts storage, dequantisation of hand-built blocks whose values are worked out
// from the layouts in ggml-common.h, and quantise → dequantise round trips within each format's error.
import { describe, expect, it } from 'vitest';
import { byteSize, decodeFrom, encodeAs, f32ToF16Bits } from '../src/dtype.js';
import { dequantizeExact } from '../src/quant/dequantize.js';
import { BLOCK_FORMATS, type BlockDType, blocksToStorage, ggmlBytes, storageToBlocks } from '../src/quant/layout.js';
import { quantizeBlocks, quantizeToGgmlBlocks } from '../src/quant/quantize.js';
import { rngFor, uniform } from './harness.js';

const NEW_FORMATS = ['q4_0', 'q4_1', 'q4_k', 'q5_k', 'q6_k'] as const;

function f16Bytes(value: number): [number, number] {
  const bits = f32ToF16Bits(value);
  return [bits & 0xff, bits >> 8];
}

/** One ggml block of `dtype` from its fields, in ggml's field order. */
function ggmlBlock(dtype: BlockDType, fields: Record<string, readonly number[]>): Uint8Array {
  const order: Record<BlockDType, string[]> = {
    q8_0: ['d', 'qs'],
    q4_0: ['d', 'qs'],
    q4_1: ['d', 'm', 'qs'],
    q4_k: ['d', 'dmin', 'scales', 'qs'],
    q5_k: ['d', 'dmin', 'scales', 'qh', 'qs'],
    q6_k: ['ql', 'qh', 'scales', 'd'],
  };
  const bytes = order[dtype].flatMap((name) => fields[name] as number[]);
  expect(bytes.length).toBe(BLOCK_FORMATS[dtype].ggmlBytes);
  return Uint8Array.from(bytes.map((b) => b & 0xff));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The k-quants' 12 scale bytes for six-bit scales sc[0..7] and mins m[0..7] (ggml-common.h's comment). */
function kScales(sc: readonly number[], m: readonly number[]): number[] {
  const bytes = new Array<number>(12).fill(0);
  for (let j = 0; j < 4; j++) {
    bytes[j] = (sc[j] as number) | (((sc[j + 4] as number) >> 4) << 6);
    bytes[j + 4] = (m[j] as number) | (((m[j + 4] as number) >> 4) << 6);
    bytes[j + 8] = ((sc[j + 4] as number) & 0xf) | (((m[j + 4] as number) & 0xf) << 4);
  }
  return bytes;
}

function dequantizeGgml(dtype: BlockDType, block: Uint8Array): number[] {
  const elements = BLOCK_FORMATS[dtype].blockElements;
  return Array.from(dequantizeExact(dtype, blocksToStorage(dtype, block, elements), elements));
}

describe('block formats: sizes and layouts', () => {
  it.for([
    { dtype: 'q4_0', elements: 32, ggml: 18, storage: 16 + 4 },
    { dtype: 'q4_0', elements: 64, ggml: 36, storage: 32 + 4 },
    { dtype: 'q4_1', elements: 96, ggml: 60, storage: 48 + 12 },
    { dtype: 'q4_k', elements: 256, ggml: 144, storage: 128 + 12 + 4 },
    { dtype: 'q5_k', elements: 512, ggml: 352, storage: 256 + 64 + 24 + 8 },
    { dtype: 'q6_k', elements: 256, ggml: 210, storage: 128 + 64 + 16 + 4 },
    { dtype: 'q6_k', elements: 512, ggml: 420, storage: 256 + 128 + 32 + 4 },
    { dtype: 'q8_0', elements: 64, ggml: 68, storage: 64 + 4 },
  ] as const)(
    '$dtype: $elements elements are $ggml bytes in ggml, $storage stored',
    ({ dtype, elements, ggml, storage }) => {
      expect(ggmlBytes(dtype, elements)).toBe(ggml);
      expect(byteSize(dtype, elements)).toBe(storage);
    },
  );

  it.for(Object.keys(BLOCK_FORMATS) as BlockDType[])(
    '%s: ggml blocks → storage → ggml blocks is the identity',
    (dtype) => {
      const rng = rngFor(`layout ${dtype}`);
      const elements = BLOCK_FORMATS[dtype].blockElements * 5;
      const blocks = Uint8Array.from({ length: ggmlBytes(dtype, elements) }, () => Math.floor(rng() * 256));
      expect(storageToBlocks(dtype, blocksToStorage(dtype, blocks, elements), elements)).toEqual(blocks);
    },
  );

  it('q8_0 storage is the existing split layout (quants, then f16 scales)', () => {
    const values = uniform(rngFor('q8_0 layout'), 64);
    const stored = encodeAs('q8_0', values);
    const blocks = storageToBlocks('q8_0', stored, 64);
    expect(Array.from(blocks.subarray(2, 34))).toEqual(Array.from(stored.subarray(0, 32)));
    expect(Array.from(blocks.subarray(0, 2))).toEqual(Array.from(stored.subarray(64, 66)));
  });

  it('a length that is not whole blocks is refused, naming the format', () => {
    expect(() => quantizeBlocks('q4_k', new Float32Array(300))).toThrow(
      /q4_k needs a multiple of 256 elements, got 300/,
    );
    expect(() => blocksToStorage('q4_0', new Uint8Array(17), 32)).toThrow(/q4_0/);
  });
});

describe('block formats: dequantisation of hand-built blocks', () => {
  it('q4_0: value = d·(q - 8), element j in the low nibble of qs[j], j + 16 in the high one', () => {
    const block = ggmlBlock('q4_0', { d: f16Bytes(0.5), qs: range(16).map((j) => j | ((15 - j) << 4)) });
    const expected = [...range(16).map((j) => 0.5 * (j - 8)), ...range(16).map((j) => 0.5 * (15 - j - 8))];
    expect(dequantizeGgml('q4_0', block)).toEqual(expected);
  });

  it('q4_1: value = d·q + m', () => {
    const block = ggmlBlock('q4_1', {
      d: f16Bytes(0.25),
      m: f16Bytes(-1.5),
      qs: range(16).map((j) => (j % 16) | (((j * 3) % 16) << 4)),
    });
    const expected = [...range(16).map((j) => 0.25 * j - 1.5), ...range(16).map((j) => 0.25 * ((j * 3) % 16) - 1.5)];
    expect(dequantizeGgml('q4_1', block)).toEqual(expected);
  });

  // Six-bit scales and mins that use the high bits (63, 62, 33) as well as the low ones.
  const SC = [1, 2, 3, 4, 5, 33, 7, 63];
  const MIN = [0, 1, 2, 3, 4, 5, 40, 62];

  it('q4_k: value = d·sc·q - dmin·m per sub-block of 32, sub-blocks 2c and 2c+1 in the low and high nibbles of qs[32c..]', () => {
    const q = (e: number) => (e * 7 + (e >> 5)) % 16; // element e's quant
    const qs = range(128).map((i) => {
      const c = i >> 5;
      const l = i & 31;
      return q(64 * c + l) | (q(64 * c + 32 + l) << 4);
    });
    const block = ggmlBlock('q4_k', { d: f16Bytes(0.5), dmin: f16Bytes(0.125), scales: kScales(SC, MIN), qs });
    const expected = range(256).map((e) => 0.5 * (SC[e >> 5] as number) * q(e) - 0.125 * (MIN[e >> 5] as number));
    expect(dequantizeGgml('q4_k', block)).toEqual(expected);
  });

  it('q5_k: as q4_k with a fifth bit from qh (bit 2c of qh[l] for element 64c + l, bit 2c + 1 for 64c + 32 + l)', () => {
    const q = (e: number) => (e * 13 + 5) % 32;
    const qs = range(128).map((i) => {
      const c = i >> 5;
      const l = i & 31;
      return (q(64 * c + l) & 15) | ((q(64 * c + 32 + l) & 15) << 4);
    });
    const qh = range(32).map((l) => {
      let h = 0;
      for (let c = 0; c < 4; c++) {
        h |= (q(64 * c + l) >> 4) << (2 * c);
        h |= (q(64 * c + 32 + l) >> 4) << (2 * c + 1);
      }
      return h;
    });
    const block = ggmlBlock('q5_k', { d: f16Bytes(2), dmin: f16Bytes(0.75), scales: kScales(SC, MIN), qh, qs });
    const expected = range(256).map((e) => 2 * (SC[e >> 5] as number) * q(e) - 0.75 * (MIN[e >> 5] as number));
    expect(dequantizeGgml('q5_k', block)).toEqual(expected);
  });

  it('q6_k: value = d·scales[e / 16]·(q - 32), low 4 bits in ql, high 2 in qh', () => {
    const q = (e: number) => (e * 11 + 3) % 64;
    const ql = new Array<number>(128).fill(0);
    const qh = new Array<number>(64).fill(0);
    for (let n = 0; n < 2; n++) {
      for (let l = 0; l < 32; l++) {
        const e = 128 * n + l;
        ql[64 * n + l] = (q(e) & 15) | ((q(e + 64) & 15) << 4);
        ql[64 * n + l + 32] = (q(e + 32) & 15) | ((q(e + 96) & 15) << 4);
        qh[32 * n + l] = (q(e) >> 4) | ((q(e + 32) >> 4) << 2) | ((q(e + 64) >> 4) << 4) | ((q(e + 96) >> 4) << 6);
      }
    }
    const scales = range(16).map((i) => (i * 37) % 256); // int8: 0, 37, 74, 111, -108, ...
    const signed = (b: number) => (b > 127 ? b - 256 : b);
    const block = ggmlBlock('q6_k', { ql, qh, scales, d: f16Bytes(0.0625) });
    const expected = range(256).map((e) => 0.0625 * signed(scales[e >> 4] as number) * (q(e) - 32));
    expect(dequantizeGgml('q6_k', block)).toEqual(expected);
  });
});

describe('block formats: quantise → dequantise', () => {
  it.for(NEW_FORMATS)(
    '%s: every element within the step of its sub-block, RMS error as the format promises',
    (dtype) => {
      const rng = rngFor(`round trip ${dtype}`);
      const blockElements = BLOCK_FORMATS[dtype].blockElements;
      const blocks = 64;
      const values = new Float32Array(blocks * blockElements);
      for (let b = 0; b < blocks; b++) {
        // Magnitudes from 0.1 to 1e3, some blocks shifted off zero (the formats with mins), and one
        // all-zero block. Not smaller: q6_k's d ≈ max|x| / 4096 is an f16 subnormal below max|x| ≈ 0.25,
        // with an absolute precision of 6e-8, so its relative error (2.4e-4 / max|x|) passes a step
        // below max|x| ≈ 0.01: a property of the format, as llama.cpp has it.
        const magnitude = b === 0 ? 0 : 10 ** ((b % 5) - 1);
        const shift = b % 3 === 1 ? magnitude / 2 : 0;
        values.set(uniform(rng, blockElements, -magnitude + shift, magnitude + shift), b * blockElements);
      }
      const stored = encodeAs(dtype, values);
      expect(stored.byteLength).toBe(byteSize(dtype, values.length));
      const back = decodeFrom(dtype, stored, values.length);
      // Levels per sub-block: q4 16, q5 32, q6 64 across the sub-block's range (max - min, or 2·max|x|
      // for the symmetric formats). Rounding to the nearest level leaves half a step; the k-quants'
      // 6-bit scale and min and the f16 d add up to another half step at the ends of the range.
      const levels = { q4_0: 16, q4_1: 16, q4_k: 16, q5_k: 32, q6_k: 64 }[dtype];
      const sub = dtype === 'q6_k' ? 16 : 32;
      let squared = 0;
      let squaredStep = 0;
      for (let s = 0; s < values.length / sub; s++) {
        const part = values.subarray(s * sub, (s + 1) * sub);
        let lo = Math.min(0, ...part);
        let hi = Math.max(0, ...part);
        if (dtype === 'q4_0' || dtype === 'q6_k') {
          hi = Math.max(Math.abs(lo), Math.abs(hi));
          lo = -hi;
        }
        const step = (hi - lo) / (levels - 1);
        for (let i = s * sub; i < (s + 1) * sub; i++) {
          const error = Math.abs((values[i] as number) - (back[i] as number));
          if (error > step * 1.05 + 1e-30) {
            expect.fail(`${dtype}: element ${i} = ${values[i]} came back ${back[i]}, error ${error} > step ${step}`);
          }
          squared += error * error;
          squaredStep += step * step;
        }
      }
      // Uniform rounding error has RMS step/√12 ≈ 0.29 step; allow 0.4.
      expect(Math.sqrt(squared / squaredStep)).toBeLessThan(0.4);
      // The all-zero block comes back as zeros.
      expect(Array.from(back.subarray(0, blockElements)).every((v) => v === 0)).toBe(true);
    },
  );

  it('q4_0 follows ggml: d = -max/8 for the element of largest magnitude, which comes back exactly (f16 d permitting)', () => {
    const values = new Float32Array(32).fill(0.25);
    values[5] = -2; // the largest magnitude: d = 0.25, q = 0 → -8·0.25
    const back = decodeFrom('q4_0', encodeAs('q4_0', values), 32);
    expect(back[5]).toBe(-2);
    expect(back[0]).toBe(0.25);
    const block = quantizeToGgmlBlocks('q4_0', values);
    expect((block[0] as number) | ((block[1] as number) << 8)).toBe(f32ToF16Bits(0.25));
  });
});
