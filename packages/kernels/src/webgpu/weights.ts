import type { WeightDType } from '../dtype.js';
import { planeOffsets } from '../quant/layout.js';
import { blockQuadWeightLoader, blockWeightLoader, isFourToSixBit, UNIT_ELEMENTS } from './block-weights.js';

/**
 * WGSL for reading element `i` of a weight buffer `w` as f32, whatever its dtype. f16 and q8_0 are
 * read as u32 words (two halves, or four int8 quants) so no optional feature is needed; q8_0 reads
 * its block's f16 scale from the scales region, which starts at word `params.scales_word`.
 */
export function weightLoader(dtype: WeightDType, buffer = 'w'): { declaration: string; load: string } {
  if (isFourToSixBit(dtype)) return blockWeightLoader(dtype, buffer);
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
  if (isFourToSixBit(dtype)) return blockQuadWeightLoader(dtype, buffer);
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

/**
 * Word offset of the q8_0 scales region in a chunk of `elements` elements, or of the plane after
 * the quants for the 4-6-bit block formats (block-weights.ts); 0 for other dtypes.
 */
export function scalesWord(dtype: WeightDType, elements: number): number {
  if (isFourToSixBit(dtype)) return (planeOffsets(dtype, elements)[1] as number) / 4;
  return dtype === 'q8_0' ? Math.ceil(elements / 4) : 0;
}

/** Weights per 16-byte group: what one lane reads with one 128-bit load in the matrix-vector kernel. */
export const GROUP_ELEMENTS: Readonly<Record<WeightDType, number>> = Object.freeze({
  f32: 4,
  f16: 8,
  q8_0: 16,
  ...UNIT_ELEMENTS, // the block formats' matrix-vector kernel is matvec-blocks.wgsl.ts, by units
});

/**
 * WGSL `fn name(g: u32, x0: vec4f, ..) -> f32`: the dot product of weight group `g` (16 bytes:
 * GROUP_ELEMENTS[dtype] weights) with the input's matching GROUP_ELEMENTS / 4 vec4s, which the
 * caller loads once for all the rows it computes. Rows must hold whole groups. Every dtype reads
 * its weights as array<vec4u> or array<vec4f>, so each lane issues one 128-bit load per group
 * whatever the dtype. q8_0's scales are read from the same binding (its scales region starts at
 * a word multiple of 4 when rows hold whole blocks).
 */
export function groupDotLoader(dtype: WeightDType, buffer = 'w', name = 'dot_w'): { declaration: string; fn: string } {
  if (isFourToSixBit(dtype)) throw new Error(`groupDotLoader: ${dtype} has a matrix-vector shader of its own`);
  const xs = Array.from({ length: GROUP_ELEMENTS[dtype] / 4 }, (_, i) => `x${i}: vec4f`).join(', ');
  switch (dtype) {
    case 'f32':
      return {
        declaration: 'array<vec4f>',
        fn: `fn ${name}(g: u32, ${xs}) -> f32 { return dot(x0, ${buffer}[g]); }`,
      };
    case 'f16':
      return {
        declaration: 'array<vec4u>',
        fn: `fn ${name}(g: u32, ${xs}) -> f32 {
  let v = ${buffer}[g];
  return dot(x0, vec4f(unpack2x16float(v.x), unpack2x16float(v.y)))
       + dot(x1, vec4f(unpack2x16float(v.z), unpack2x16float(v.w)));
}`,
      };
    case 'q8_0':
      return {
        declaration: 'array<vec4u>',
        fn: `fn ${name}(g: u32, ${xs}) -> f32 {
  let v = bitcast<vec4i>(${buffer}[g]);
  let quants = array<vec4f, 4>(
    vec4f(f32(extractBits(v.x, 0u, 8u)), f32(extractBits(v.x, 8u, 8u)), f32(extractBits(v.x, 16u, 8u)), f32(extractBits(v.x, 24u, 8u))),
    vec4f(f32(extractBits(v.y, 0u, 8u)), f32(extractBits(v.y, 8u, 8u)), f32(extractBits(v.y, 16u, 8u)), f32(extractBits(v.y, 24u, 8u))),
    vec4f(f32(extractBits(v.z, 0u, 8u)), f32(extractBits(v.z, 8u, 8u)), f32(extractBits(v.z, 16u, 8u)), f32(extractBits(v.z, 24u, 8u))),
    vec4f(f32(extractBits(v.w, 0u, 8u)), f32(extractBits(v.w, 8u, 8u)), f32(extractBits(v.w, 16u, 8u)), f32(extractBits(v.w, 24u, 8u))));
  let sum = dot(x0, quants[0]) + dot(x1, quants[1]) + dot(x2, quants[2]) + dot(x3, quants[3]);
  // Two groups per 32-weight block, two f16 scales per word, four words per vec4u.
  let block = g / 2u;
  let word = params.scales_word + block / 2u;
  let scales = unpack2x16float(${buffer}[word / 4u][word % 4u]);
  return sum * select(scales.x, scales.y, (block & 1u) == 1u);
}`,
      };
  }
}
