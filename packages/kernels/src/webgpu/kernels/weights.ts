import type { WeightDType } from '../../dtype.js';

/**
 * WGSL for reading element `i` of a weight buffer `w` as f32, whatever its dtype. f16 and q8_0 are
 * read as u32 words (two halves, or four int8 quants) so no optional feature is needed; q8_0 reads
 * its block's f16 scale from the scales region, which starts at word `params.scales_word`.
 */
export function weightLoader(dtype: WeightDType, buffer = 'w'): { declaration: string; load: string } {
  switch (dtype) {
    case 'f32':
      return {
        declaration: `array<f32>`,
        load: `fn load_w(i: u32) -> f32 { return ${buffer}[i]; }`,
      };
    case 'f16':
      return {
        declaration: `array<u32>`,
        load: `fn load_w(i: u32) -> f32 {
  let pair = unpack2x16float(${buffer}[i >> 1u]);
  return select(pair.x, pair.y, (i & 1u) == 1u);
}`,
      };
    case 'q8_0':
      return {
        declaration: `array<u32>`,
        load: `fn load_w(i: u32) -> f32 {
  let q = extractBits(bitcast<i32>(${buffer}[i >> 2u]), (i & 3u) * 8u, 8u);
  let block = i / 32u;
  let scales = unpack2x16float(${buffer}[params.scales_word + (block >> 1u)]);
  return f32(q) * select(scales.x, scales.y, (block & 1u) == 1u);
}`,
      };
  }
}

/** Word offset of the q8_0 scales region in a chunk of `elements` elements (0 for other dtypes). */
export function scalesWord(dtype: WeightDType, elements: number): number {
  return dtype === 'q8_0' ? Math.ceil(elements / 4) : 0;
}
