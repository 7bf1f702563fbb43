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

/**
 * WGSL for reading four consecutive weights (quad `q` = elements 4q..4q+3) as a vec4f, for rows
 * whose length is a multiple of 4: one 16-byte load for f32, 8 bytes for f16, 4 for q8_0.
 */
export function quadWeightLoader(dtype: WeightDType, buffer = 'w'): { declaration: string; load: string } {
  switch (dtype) {
    case 'f32':
      return { declaration: 'array<vec4f>', load: `fn load_w4(q: u32) -> vec4f { return ${buffer}[q]; }` };
    case 'f16':
      return {
        declaration: 'array<vec2u>',
        load: `fn load_w4(q: u32) -> vec4f {
  let v = ${buffer}[q];
  return vec4f(unpack2x16float(v.x), unpack2x16float(v.y));
}`,
      };
    case 'q8_0':
      return {
        declaration: 'array<u32>',
        load: `fn load_w4(q: u32) -> vec4f {
  let word = bitcast<i32>(${buffer}[q]);
  let quants = vec4f(f32(extractBits(word, 0u, 8u)), f32(extractBits(word, 8u, 8u)),
                     f32(extractBits(word, 16u, 8u)), f32(extractBits(word, 24u, 8u)));
  let block = q / 8u;
  let scales = unpack2x16float(${buffer}[params.scales_word + (block >> 1u)]);
  return quants * select(scales.x, scales.y, (block & 1u) == 1u);
}`,
      };
  }
}

/** Word offset of the q8_0 scales region in a chunk of `elements` elements (0 for other dtypes). */
export function scalesWord(dtype: WeightDType, elements: number): number {
  return dtype === 'q8_0' ? Math.ceil(elements / 4) : 0;
}
