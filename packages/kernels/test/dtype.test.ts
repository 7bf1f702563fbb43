// Storage formats: f16 conversion (special values, round to nearest even), bf16 widening, and q8_0
// (layout and quantisation error bound).
import { describe, expect, it } from 'vitest';
import { bf16ToF32, byteSize, dequantizeQ8_0, f16ToF32, f32ToF16, Q8_0_BLOCK, quantizeQ8_0 } from '../src/dtype.js';
import { rngFor, uniform } from './harness.js';

const toF16 = (v: number) => f32ToF16(Float32Array.of(v))[0] as number;
const fromF16 = (bits: number) => f16ToF32(Uint16Array.of(bits))[0] as number;
const hex = (bits: number) => `0x${bits.toString(16).padStart(4, '0')}`;

describe('f32 → f16 → f32', () => {
  it.for([
    { value: 0, bits: 0x0000 },
    { value: -0, bits: 0x8000 },
    { value: 1, bits: 0x3c00 },
    { value: -2, bits: 0xc000 },
    { value: 0.5, bits: 0x3800 },
    { value: 65504, bits: 0x7bff }, // largest finite f16
    { value: -65504, bits: 0xfbff },
    { value: 65519.99, bits: 0x7bff }, // below the halfway point to 65536: rounds down
    { value: 65520, bits: 0x7c00 }, // halfway to 2^16, ties to even: overflows to Inf
    { value: 1e6, bits: 0x7c00 },
    { value: -1e6, bits: 0xfc00 },
    { value: Number.POSITIVE_INFINITY, bits: 0x7c00 },
    { value: Number.NEGATIVE_INFINITY, bits: 0xfc00 },
    { value: 2 ** -14, bits: 0x0400 }, // smallest normal
    { value: 2 ** -24, bits: 0x0001 }, // smallest subnormal
    { value: 1023 * 2 ** -24, bits: 0x03ff }, // largest subnormal
    { value: -3 * 2 ** -24, bits: 0x8003 },
    { value: 2 ** -25, bits: 0x0000 }, // halfway between 0 and 2^-24: ties to even (0)
    { value: 1.5 * 2 ** -25, bits: 0x0001 }, // above halfway
    { value: 3 * 2 ** -25, bits: 0x0002 }, // 1.5 · 2^-24: ties to even (2)
    { value: 5 * 2 ** -25, bits: 0x0002 }, // 2.5 · 2^-24: ties to even (2)
    { value: 2 ** -26, bits: 0x0000 }, // underflow
    { value: -(2 ** -26), bits: 0x8000 }, // underflow keeps the sign
    { value: 1 + 2 ** -11, bits: 0x3c00 }, // halfway between 1 and 1 + 2^-10: ties to even
    { value: 1 + 3 * 2 ** -11, bits: 0x3c02 }, // halfway between 0x3c01 and 0x3c02: even
    { value: 1 + 2 ** -11 + 2 ** -20, bits: 0x3c01 }, // just above halfway
    { value: 2049, bits: 0x6800 }, // halfway between 2048 and 2050: ties to even
    { value: 2051, bits: 0x6802 }, // halfway between 2050 and 2052: ties to even
    { value: 2 - 2 ** -11, bits: 0x4000 }, // rounds up and carries into the exponent
    { value: 2 ** -14 - 2 ** -25, bits: 0x0400 }, // largest subnormal + half ulp: ties to even → smallest normal
  ])('$value → bits', ({ value, bits }) => {
    expect(hex(toF16(value))).toBe(hex(bits));
  });

  it('NaN stays NaN (and keeps its sign bit)', () => {
    const bits = toF16(Number.NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x03ff).not.toBe(0);
    expect(Number.isNaN(fromF16(bits))).toBe(true);
    const negative = new Float32Array(new Uint32Array([0xffc00000]).buffer);
    expect(toF16(negative[0] as number) & 0x8000).toBe(0x8000);
  });

  it('f16 → f32 decodes special bit patterns', () => {
    expect(Object.is(fromF16(0x8000), -0)).toBe(true);
    expect(fromF16(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(fromF16(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(fromF16(0x7e00))).toBe(true);
    expect(Number.isNaN(fromF16(0xfc01))).toBe(true);
    expect(fromF16(0x0001)).toBe(2 ** -24);
    expect(fromF16(0x3555)).toBe(0.333251953125);
    expect(fromF16(0x7bff)).toBe(65504);
  });

  it('every non-NaN f16 survives f16 → f32 → f16 exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToF16(f16ToF32(all));
    for (let h = 0; h < 65536; h++) {
      const nan = (h & 0x7c00) === 0x7c00 && (h & 0x03ff) !== 0;
      if (!nan && back[h] !== h) expect.fail(`f16 ${hex(h)} came back as ${hex(back[h] as number)}`);
    }
  });

  it('relative error of the round trip is at most 2^-11 in the normal range', () => {
    const rng = rngFor('f16 relative error');
    const values = new Float32Array(100000);
    for (let i = 0; i < values.length; i++) {
      // Log-uniform magnitudes from 2^-14 to 2^15, both signs.
      values[i] = (rng() < 0.5 ? -1 : 1) * 2 ** (-14 + 29 * rng());
    }
    const back = f16ToF32(f32ToF16(values));
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      worst = Math.max(worst, Math.abs((back[i] as number) - v) / Math.abs(v));
    }
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    expect(worst).toBeGreaterThan(2 ** -12); // the bound is tight: the test is not vacuous
  });
});

describe('bf16 → f32', () => {
  it.for([
    { bits: 0x0000, value: 0 },
    { bits: 0x8000, value: -0 },
    { bits: 0x3f80, value: 1 },
    { bits: 0xbf80, value: -1 },
    { bits: 0x4049, value: 3.140625 },
    { bits: 0x3e80, value: 0.25 },
    { bits: 0x7f7f, value: 3.3895313892515355e38 }, // largest finite bf16
    { bits: 0x0080, value: 2 ** -126 }, // smallest normal
    { bits: 0x0001, value: 2 ** -133 }, // smallest subnormal
    { bits: 0x7f80, value: Number.POSITIVE_INFINITY },
    { bits: 0xff80, value: Number.NEGATIVE_INFINITY },
  ])('$bits', ({ bits, value }) => {
    const out = bf16ToF32(Uint16Array.of(bits))[0] as number;
    expect(Object.is(out, value), `bf16 ${hex(bits)} → ${out}, expected ${value}`).toBe(true);
  });

  it('NaN patterns give NaN, and a run of values widens in order', () => {
    expect(Number.isNaN(bf16ToF32(Uint16Array.of(0x7fc0))[0])).toBe(true);
    expect(Number.isNaN(bf16ToF32(Uint16Array.of(0xff81))[0])).toBe(true);
    expect(Array.from(bf16ToF32(Uint16Array.of(0x3f80, 0x4000, 0x4040, 0xc080)))).toEqual([1, 2, 3, -4]);
  });
});

describe('q8_0', () => {
  it('stores all quants first, then the f16 scales, each region padded to 4 bytes', () => {
    expect(byteSize('q8_0', 32)).toBe(32 + 4);
    expect(byteSize('q8_0', 64)).toBe(64 + 4);
    expect(byteSize('q8_0', 96)).toBe(96 + 8);
    const values = new Float32Array(64);
    for (let i = 0; i < 32; i++) values[i] = (i - 16) / 16; // block 0: max |x| = 1
    for (let i = 32; i < 64; i++) values[i] = -4 * ((i - 32) / 31); // block 1: max |x| = 4, at a negative value
    const bytes = quantizeQ8_0(values);
    expect(bytes.byteLength).toBe(68);
    const quants = new Int8Array(bytes.buffer, 0, 64);
    const scales = new Uint16Array(bytes.buffer, 64, 2);
    expect(scales[0]).toBe(toF16(1 / 127));
    expect(scales[1]).toBe(toF16(4 / 127));
    expect(quants[0]).toBe(-127);
    expect(quants[16]).toBe(0);
    expect(quants[32]).toBe(0);
    expect(quants[63]).toBe(-127);
  });

  it('an all-zero block has scale 0 and dequantises to zeros', () => {
    const bytes = quantizeQ8_0(new Float32Array(32));
    expect(Array.from(dequantizeQ8_0(bytes, 32)).every((v) => v === 0)).toBe(true);
  });

  it('round trip error per block is at most d/2 ≈ max|x|/254', () => {
    const rng = rngFor('q8_0 error');
    const blocks = 2000;
    const values = new Float32Array(blocks * Q8_0_BLOCK);
    for (let b = 0; b < blocks; b++) {
      // Each block with its own magnitude, from 0.03 to 1e3 (below ~8e-3, max|x|/127 is an f16
      // subnormal and the scale loses relative precision).
      const magnitude = 10 ** (-1.5 + 4.5 * rng());
      values.set(uniform(rng, Q8_0_BLOCK, -magnitude, magnitude), b * Q8_0_BLOCK);
    }
    const bytes = quantizeQ8_0(values);
    const back = dequantizeQ8_0(bytes, values.length);
    const scales = f16ToF32(new Uint16Array(bytes.buffer, values.length, blocks));
    for (let b = 0; b < blocks; b++) {
      let amax = 0;
      let worst = 0;
      for (let i = b * Q8_0_BLOCK; i < (b + 1) * Q8_0_BLOCK; i++) {
        amax = Math.max(amax, Math.abs(values[i] as number));
        worst = Math.max(worst, Math.abs((back[i] as number) - (values[i] as number)));
      }
      const d = scales[b] as number;
      // d is amax/127 rounded to f16 (relative error ≤ 2^-11).
      expect(Math.abs(d - amax / 127)).toBeLessThanOrEqual((amax / 127) * 2 ** -11);
      if (worst > (d / 2) * (1 + 1e-9) || worst > (amax / 254) * (1 + 2 ** -10)) {
        expect.fail(`block ${b}: max |x| ${amax}, scale ${d}, worst error ${worst} > d/2 = ${d / 2}`);
      }
    }
  });

  it('quantizeQ8_0 refuses a length that is not a multiple of 32', () => {
    expect(() => quantizeQ8_0(new Float32Array(33))).toThrow(/multiple of 32/);
  });
});

describe('fromBFloat16', () => {
  it('converts bf16 bits on upload', async () => {
    const { createBackend, fromBFloat16 } = await import('../src/node.js');
    const cpu = await createBackend({ kind: 'cpu' });
    // 0x3f80 = 1.0, 0xc000 = -2.0, 0x4049 = 3.140625, 0x0000 = 0
    const bits = Uint16Array.from([0x3f80, 0xc000, 0x4049, 0x0000]);
    expect([...(await fromBFloat16(cpu, bits, [4]).toFloat32())]).toEqual([1, -2, 3.140625, 0]);
    expect([...(await fromBFloat16(cpu, bits, [4], 'f16').toFloat32())]).toEqual([1, -2, 3.140625, 0]);
  });
});

describe('checkpoint conversions', () => {
  it('bf16ToF16 matches bf16 → f32 → f16', async () => {
    const { bf16ToF16, bf16ToF32, f32ToF16 } = await import('../src/dtype.js');
    const bits = Uint16Array.from([0x3f80, 0xc000, 0x4049, 0x0000, 0x8000, 0x3a83, 0x477f, 0x4780, 0x0001]);
    expect(Array.from(bf16ToF16(bits))).toEqual(Array.from(f32ToF16(bf16ToF32(bits))));
  });

  it('firstNonFinite finds NaN and infinities in f32, f16 and bf16', async () => {
    const { firstNonFinite } = await import('../src/node.js');
    const bytes = (words: number[], size: 2 | 4) => {
      const out = new Uint8Array(words.length * size);
      const view = new DataView(out.buffer);
      words.forEach((w, i) => {
        if (size === 2) view.setUint16(i * 2, w, true);
        else view.setUint32(i * 4, w, true);
      });
      return out;
    };
    expect(firstNonFinite('f32', new Uint8Array(Float32Array.from([1, 2, Number.NaN]).buffer))).toBe(2);
    expect(firstNonFinite('f32', new Uint8Array(Float32Array.from([1, -3.4e38]).buffer))).toBe(-1);
    expect(firstNonFinite('f16', bytes([0x3c00, 0x7bff, 0xfc00], 2))).toBe(2);
    expect(firstNonFinite('bf16', bytes([0x3f80, 0x7f80], 2))).toBe(1);
    expect(firstNonFinite('bf16', bytes([0x3f80, 0x7f7f], 2))).toBe(-1);
  });
});
