import { BLOCK_FORMATS, type BlockDType } from '../quant/layout.js';

/**
 * WGSL for reading llama.cpp's 4-6-bit block formats (src/quant/layout.ts) from a weight binding
 * declared `array<vec4u>`: the quant planes with 16-byte loads (every block's quants start 16-byte
 * aligned), the scales and mins as bytes and f16 halves of words. The plane after the quants starts
 * at word `params.scales_word` (as q8_0's scales do); the other planes follow from the block count.
 * Values are computed as the float64 dequantisation rounded once (a·q exact, then one addition).
 */
export type FourToSixBit = Exclude<BlockDType, 'q8_0'>;

export function isFourToSixBit(dtype: string): dtype is FourToSixBit {
  return dtype in BLOCK_FORMATS && dtype !== 'q8_0';
}

/** Elements one matrix-vector unit covers: a q4_0/q4_1 block, or a quarter of a k-quant block. */
export const UNIT_ELEMENTS: Readonly<Record<FourToSixBit, number>> = Object.freeze({
  q4_0: 32,
  q4_1: 32,
  q4_k: 64,
  q5_k: 64,
  q6_k: 64,
});

/** Byte offsets of the planes after the quants, as WGSL expressions of `s` (the second plane) and `blocks`. */
function planes(dtype: FourToSixBit): { quantBytes: number; scales: string; dm: string; qh: string } {
  switch (dtype) {
    case 'q4_0':
    case 'q4_1':
      return { quantBytes: 16, scales: 's', dm: 's', qh: '0u' };
    case 'q4_k':
      return { quantBytes: 128, scales: 's', dm: 's + 12u * blocks', qh: '0u' };
    case 'q5_k':
      return { quantBytes: 128, scales: 's + 32u * blocks', dm: 's + 44u * blocks', qh: 's' };
    case 'q6_k':
      return { quantBytes: 128, scales: 's + 64u * blocks', dm: 's + 80u * blocks', qh: 's' };
  }
}

/**
 * Helper functions `${b}_word`, `${b}_byte`, `${b}_half`, `${b}_scale_min` and `${b}_value(i)`
 * (element i of the weight as f32) for buffer `b`; they read `params.scales_word`.
 */
export function blockHelpers(dtype: FourToSixBit, b: string): string {
  const p = planes(dtype);
  const common = `fn ${b}_word(i: u32) -> u32 { return ${b}[i >> 2u][i & 3u]; }
fn ${b}_byte(at: u32) -> u32 { return (${b}_word(at >> 2u) >> ((at & 3u) * 8u)) & 255u; }
fn ${b}_half(at: u32) -> f32 {
  let pair = unpack2x16float(${b}_word(at >> 2u));
  return select(pair.x, pair.y, (at & 2u) != 0u);
}
fn ${b}_planes() -> vec4u {
  let s = params.scales_word * 4u;
  let blocks = s / ${p.quantBytes}u;
  return vec4u(s, ${p.scales}, ${p.dm}, ${p.qh});
}
fn ${b}_scale_min(at: u32, j: u32) -> vec2f {
  if (j < 4u) { return vec2f(f32(${b}_byte(at + j) & 63u), f32(${b}_byte(at + j + 4u) & 63u)); }
  let low = ${b}_byte(at + j + 4u);
  return vec2f(f32((low & 15u) | ((${b}_byte(at + j - 4u) >> 6u) << 4u)), f32((low >> 4u) | ((${b}_byte(at + j) >> 6u) << 4u)));
}`;
  return `${common}\n${valueFn(dtype, b)}`;
}

function valueFn(dtype: FourToSixBit, b: string): string {
  switch (dtype) {
    case 'q4_0':
      return `fn ${b}_value(i: u32) -> f32 {
  let blk = i / 32u;
  let j = i % 32u;
  let q = (${b}_byte(16u * blk + j % 16u) >> ((j / 16u) * 4u)) & 15u;
  return ${b}_half(${b}_planes().x + 2u * blk) * f32(i32(q) - 8);
}`;
    case 'q4_1':
      return `fn ${b}_value(i: u32) -> f32 {
  let blk = i / 32u;
  let j = i % 32u;
  let q = (${b}_byte(16u * blk + j % 16u) >> ((j / 16u) * 4u)) & 15u;
  let at = ${b}_planes().x + 4u * blk;
  return ${b}_half(at) * f32(q) + ${b}_half(at + 2u);
}`;
    case 'q4_k':
    case 'q5_k':
      return `fn ${b}_value(i: u32) -> f32 {
  let planes = ${b}_planes();
  let blk = i / 256u;
  let e = i % 256u;
  let c = e / 64u;
  let h = (e % 64u) / 32u;
  let l = e % 32u;
  var q = (${b}_byte(128u * blk + 32u * c + l) >> (4u * h)) & 15u;
  ${dtype === 'q5_k' ? `q |= ((${b}_byte(planes.w + 32u * blk + l) >> (2u * c + h)) & 1u) << 4u;` : ''}
  let sm = ${b}_scale_min(planes.y + 12u * blk, 2u * c + h);
  let at = planes.z + 4u * blk;
  return ${b}_half(at) * sm.x * f32(q) - ${b}_half(at + 2u) * sm.y;
}`;
    case 'q6_k':
      return `fn ${b}_value(i: u32) -> f32 {
  let planes = ${b}_planes();
  let blk = i / 256u;
  let e = i % 256u;
  let n = e / 128u;
  let r = (e % 128u) / 32u;
  let l = e % 32u;
  let low = (${b}_byte(128u * blk + 64u * n + 32u * (r & 1u) + l) >> (4u * (r >> 1u))) & 15u;
  let high = (${b}_byte(planes.w + 64u * blk + 32u * n + l) >> (2u * r)) & 3u;
  let sc = f32(extractBits(i32(${b}_byte(planes.y + 16u * blk + 8u * n + 2u * r + l / 16u)), 0u, 8u));
  return ${b}_half(planes.z + 2u * blk) * sc * f32(i32(low | (high << 4u)) - 32);
}`;
  }
}

/** Bytes of one word as a vec4u (byte t in lane t). */
const BYTES = (w: string) => `(vec4u(${w}, ${w} >> 8u, ${w} >> 16u, ${w} >> 24u) & vec4u(255u))`;

/**
 * `${b}_unit_dot(row, u) -> f32`: Σ x · w over unit u of a row (UNIT_ELEMENTS elements; see each
 * format), x bound as array<vec4f>, params.K the row length. Needs blockHelpers(dtype, b).
 */
export function unitDotFn(dtype: FourToSixBit, b: string): string {
  switch (dtype) {
    case 'q4_0':
    case 'q4_1':
      return `fn ${b}_unit_dot(row: u32, u: u32) -> f32 {
  let blk = row * (params.K / 32u) + u;
  let q = ${b}[blk];
  let xo = u * 8u;
  var sum = 0.0;
  var sx = 0.0;
  for (var t = 0u; t < 4u; t++) {
    let bytes = ${BYTES('q[t]')};
    let x_lo = x[xo + t];
    let x_hi = x[xo + 4u + t];
    sum += dot(x_lo, vec4f(bytes & vec4u(15u))) + dot(x_hi, vec4f(bytes >> vec4u(4u)));
    sx += dot(x_lo, vec4f(1.0)) + dot(x_hi, vec4f(1.0));
  }
  let at = ${b}_planes().x + ${dtype === 'q4_0' ? '2u' : '4u'} * blk;
  ${dtype === 'q4_0' ? `return ${b}_half(at) * (sum - 8.0 * sx);` : `return ${b}_half(at) * sum + ${b}_half(at + 2u) * sx;`}
}`;
    case 'q4_k':
    case 'q5_k':
      // Unit u = chunk c of block blk: 32 bytes of qs, sub-block 2c in the low nibbles (elements
      // 64c .. 64c + 31), 2c + 1 in the high ones; q5_k's fifth bits are bits 2c, 2c + 1 of qh.
      return `fn ${b}_unit_dot(row: u32, u: u32) -> f32 {
  let planes = ${b}_planes();
  let blk = row * (params.K / 256u) + u / 4u;
  let c = u % 4u;
  let xo = u * 16u;
  var s_lo = 0.0;
  var s_hi = 0.0;
  var x_lo_sum = 0.0;
  var x_hi_sum = 0.0;
  for (var hf = 0u; hf < 2u; hf++) {
    let q = ${b}[8u * blk + 2u * c + hf];
    ${dtype === 'q5_k' ? `let qh = ${b}[(planes.w + 32u * blk) / 16u + hf];` : ''}
    for (var t = 0u; t < 4u; t++) {
      let bytes = ${BYTES('q[t]')};
      var lo = bytes & vec4u(15u);
      var hi = bytes >> vec4u(4u);
      ${
        dtype === 'q5_k'
          ? `let hb = ${BYTES('qh[t]')};
      lo |= ((hb >> vec4u(2u * c)) & vec4u(1u)) << vec4u(4u);
      hi |= ((hb >> vec4u(2u * c + 1u)) & vec4u(1u)) << vec4u(4u);`
          : ''
      }
      let x_lo = x[xo + hf * 4u + t];
      let x_hi = x[xo + 8u + hf * 4u + t];
      s_lo += dot(x_lo, vec4f(lo));
      s_hi += dot(x_hi, vec4f(hi));
      x_lo_sum += dot(x_lo, vec4f(1.0));
      x_hi_sum += dot(x_hi, vec4f(1.0));
    }
  }
  let sm_lo = ${b}_scale_min(planes.y + 12u * blk, 2u * c);
  let sm_hi = ${b}_scale_min(planes.y + 12u * blk, 2u * c + 1u);
  let d = ${b}_half(planes.z + 4u * blk);
  let dmin = ${b}_half(planes.z + 4u * blk + 2u);
  return d * (sm_lo.x * s_lo + sm_hi.x * s_hi) - dmin * (sm_lo.y * x_lo_sum + sm_hi.y * x_hi_sum);
}`;
    case 'q6_k':
      // Unit u = positions l = 16·lh .. 16·lh + 15 of half n of block blk, and their four runs
      // (elements l, l + 32, l + 64, l + 96 of the half, each with its own scale).
      return `fn ${b}_unit_dot(row: u32, u: u32) -> f32 {
  let planes = ${b}_planes();
  let blk = row * (params.K / 256u) + u / 4u;
  let n = (u / 2u) % 2u;
  let lh = u % 2u;
  let ql_a = ${b}[8u * blk + 4u * n + lh];
  let ql_b = ${b}[8u * blk + 4u * n + 2u + lh];
  let qh = ${b}[(planes.w + 64u * blk) / 16u + 2u * n + lh];
  let xo = (u / 4u) * 64u + n * 32u + lh * 4u;
  var sums = vec4f(0.0);
  for (var t = 0u; t < 4u; t++) {
    let a = ${BYTES('ql_a[t]')};
    let bb = ${BYTES('ql_b[t]')};
    let h = ${BYTES('qh[t]')};
    let q0 = vec4i((a & vec4u(15u)) | ((h & vec4u(3u)) << vec4u(4u))) - vec4i(32);
    let q1 = vec4i((bb & vec4u(15u)) | (((h >> vec4u(2u)) & vec4u(3u)) << vec4u(4u))) - vec4i(32);
    let q2 = vec4i((a >> vec4u(4u)) | (((h >> vec4u(4u)) & vec4u(3u)) << vec4u(4u))) - vec4i(32);
    let q3 = vec4i((bb >> vec4u(4u)) | (((h >> vec4u(6u)) & vec4u(3u)) << vec4u(4u))) - vec4i(32);
    sums += vec4f(dot(x[xo + t], vec4f(q0)), dot(x[xo + 8u + t], vec4f(q1)),
                  dot(x[xo + 16u + t], vec4f(q2)), dot(x[xo + 24u + t], vec4f(q3)));
  }
  let at = planes.y + 16u * blk + 8u * n + lh;
  let scales = vec4f(f32(extractBits(i32(${b}_byte(at)), 0u, 8u)), f32(extractBits(i32(${b}_byte(at + 2u)), 0u, 8u)),
                     f32(extractBits(i32(${b}_byte(at + 4u)), 0u, 8u)), f32(extractBits(i32(${b}_byte(at + 6u)), 0u, 8u)));
  return ${b}_half(planes.z + 2u * blk) * dot(sums, scales);
}`;
  }
}

/** weightLoader's form for the block formats: `fn load_w(i) -> f32` (renamed by callers for w3). */
export function blockWeightLoader(dtype: FourToSixBit, buffer: string): { declaration: string; load: string } {
  return {
    declaration: 'array<vec4u>',
    load: `fn load_w(i: u32) -> f32 { return ${buffer}_value(i); }\n${blockHelpers(dtype, buffer)}`,
  };
}

/** quadWeightLoader's form: `fn load_w4(q) -> vec4f`, elements 4q .. 4q + 3. */
export function blockQuadWeightLoader(dtype: FourToSixBit, buffer: string): { declaration: string; load: string } {
  return {
    declaration: 'array<vec4u>',
    load: `fn load_w4(q: u32) -> vec4f {
  let i = 4u * q;
  return vec4f(${buffer}_value(i), ${buffer}_value(i + 1u), ${buffer}_value(i + 2u), ${buffer}_value(i + 3u));
}
${blockHelpers(dtype, buffer)}`,
  };
}
