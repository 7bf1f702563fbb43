/**
 * Quantisation to the block formats: ports of ggml's reference quantisers (ggml-quants.c,
 * quantize_row_{q4_0,q4_1,q4_K,q5_K,q6_K}_ref and their helpers make_qkx2_quants, make_qx_quants,
 * nearest_int) with every operation rounded to f32 as C's float arithmetic does (`fr`), so the
 * blocks are those llama.cpp's reference writes for the same values (a build that fuses
 * multiply-adds can differ on rare ties). They produce ggml's consecutive blocks; quantizeBlocks
 * returns llama-ts storage. Used to quantise f16/bf16/f32 checkpoints on load and by the tests.
 */
import { f16BitsToF32, f32ToF16Bits } from '../half.js';
import { BLOCK_FORMATS, type BlockDType, blocksToStorage } from './layout.js';

const fr = Math.fround;
/** ggml's nearest_int: round half to even, through the f32 magic number 1.5·2^23. */
const nearestInt = (v: number) => fr(fr(v) + 12582912) - 12582912;
const GROUP_MAX_EPS = fr(1e-15);
const F_0_1 = fr(0.1);

function writeF16(block: Uint8Array, at: number, value: number): number {
  const bits = f32ToF16Bits(value);
  block[at] = bits & 0xff;
  block[at + 1] = bits >> 8;
  return f16BitsToF32(bits);
}

/** quantize_row_q4_0_ref: d = max / -8 (max the value of largest magnitude), q = min(15, trunc(x/d + 8.5)). */
function q4_0Block(x: Float32Array, xo: number, y: Uint8Array): void {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    const v = x[xo + j] as number;
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  const d = fr(max / -8);
  const id = d ? fr(1 / d) : 0;
  writeF16(y, 0, d);
  for (let j = 0; j < 16; j++) {
    const x0 = fr((x[xo + j] as number) * id);
    const x1 = fr((x[xo + 16 + j] as number) * id);
    y[2 + j] = Math.min(15, Math.trunc(fr(x0 + 8.5))) | (Math.min(15, Math.trunc(fr(x1 + 8.5))) << 4);
  }
}

/** quantize_row_q4_1_ref: d = (max - min) / 15, m = min, q = min(15, trunc((x - min)/d + 0.5)). */
function q4_1Block(x: Float32Array, xo: number, y: Uint8Array): void {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < 32; j++) {
    const v = x[xo + j] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const d = fr(fr(max - min) / 15);
  const id = d ? fr(1 / d) : 0;
  writeF16(y, 0, d);
  writeF16(y, 2, min);
  for (let j = 0; j < 16; j++) {
    const x0 = fr(fr((x[xo + j] as number) - min) * id);
    const x1 = fr(fr((x[xo + 16 + j] as number) - min) * id);
    y[4 + j] = Math.min(15, Math.trunc(fr(x0 + 0.5))) | (Math.min(15, Math.trunc(fr(x1 + 0.5))) << 4);
  }
}

/**
 * make_qkx2_quants: the scale and min (returned as -min) of n values fitting levels 0..nmax, by a
 * weighted least-squares search over nstep + 1 trial scales. L gets the levels.
 */
function makeQkx2Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  xo: number,
  weights: Float32Array,
  L: Uint8Array,
  Lo: number,
  rmin: number,
  rdelta: number,
  nstep: number,
): [scale: number, theMin: number] {
  const Laux = new Uint8Array(n);
  let min = x[xo] as number;
  let max = x[xo] as number;
  let sumW = weights[0] as number;
  let sumX = fr(sumW * (x[xo] as number));
  for (let i = 1; i < n; i++) {
    const v = x[xo + i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
    const w = weights[i] as number;
    sumW = fr(sumW + w);
    sumX = fr(sumX + fr(w * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, Lo, Lo + n);
    return [0, -min];
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i] as number;
    const l = nearestInt(fr(iscale * fr(v - min)));
    L[Lo + i] = Math.max(0, Math.min(nmax, l));
    const diff = fr(fr(fr(scale * (L[Lo + i] as number)) + min) - v);
    bestError = fr(bestError + fr((weights[i] as number) * fr(diff * diff)));
  }
  if (nstep < 1) return [scale, -min];
  for (let is = 0; is <= nstep; is++) {
    iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / fr(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i] as number;
      const l = Math.max(0, Math.min(nmax, nearestInt(fr(iscale * fr(v - min)))));
      Laux[i] = l;
      const wl = fr((weights[i] as number) * l);
      sumL = fr(sumL + wl);
      sumL2 = fr(sumL2 + fr(wl * l));
      sumXL = fr(sumXL + fr(wl * v));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (D > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let error = 0;
      for (let i = 0; i < n; i++) {
        const diff = fr(fr(fr(thisScale * (Laux[i] as number)) + thisMin) - (x[xo + i] as number));
        error = fr(error + fr((weights[i] as number) * fr(diff * diff)));
      }
      if (error < bestError) {
        L.set(Laux, Lo);
        bestError = error;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  return [scale, -min];
}

/** Packs sub-block j's 6-bit scale and min into a k-quant's 12 scale bytes (ggml's layout, read by get_scale_min_k4). */
function packScaleMin(scales: Uint8Array, at: number, j: number, ls: number, lm: number): void {
  if (j < 4) {
    scales[at + j] = ls;
    scales[at + j + 4] = lm;
  } else {
    scales[at + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
    scales[at + j - 4] = (scales[at + j - 4] as number) | ((ls >> 4) << 6);
    scales[at + j] = (scales[at + j] as number) | ((lm >> 4) << 6);
  }
}

function getScaleMin(scales: Uint8Array, at: number, j: number): [number, number] {
  const q = (i: number) => scales[at + i] as number;
  if (j < 4) return [q(j) & 63, q(j + 4) & 63];
  return [(q(j + 4) & 0xf) | ((q(j - 4) >> 6) << 4), (q(j + 4) >> 4) | ((q(j) >> 6) << 4)];
}

/**
 * quantize_row_q4_K_ref (nmax 15) and quantize_row_q5_K_ref (nmax 31): per sub-block of 32 a scale
 * and min by make_qkx2_quants (weights av_x + |x|), both quantised to 6 bits against the block's
 * largest (d = max_scale / 63, dmin = max_min / 63), then every value requantised against them.
 */
function kBlock(x: Float32Array, xo: number, y: Uint8Array, nmax: 15 | 31): void {
  y.fill(0);
  const L = new Uint8Array(256);
  const weights = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) {
      const v = x[xo + 32 * j + l] as number;
      sumX2 = fr(sumX2 + fr(v * v));
    }
    const avX = fr(Math.sqrt(fr(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = fr(avX + Math.abs(x[xo + 32 * j + l] as number));
    const [scale, min] =
      nmax === 15
        ? makeQkx2Quants(32, 15, x, xo + 32 * j, weights, L, 32 * j, -1, F_0_1, 20)
        : makeQkx2Quants(32, 31, x, xo + 32 * j, weights, L, 32 * j, -0.5, F_0_1, 15);
    scales[j] = scale;
    mins[j] = min;
    if (scale > maxScale) maxScale = scale;
    if (min > maxMin) maxMin = min;
  }
  // ggml's block: d, dmin at 0; scales[12] at 4; q5_k's qh[32] at 16; qs[128] after.
  const qsAt = nmax === 15 ? 16 : 48;
  const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(fr(invScale * (scales[j] as number))) & 0xff);
    const lm = Math.min(63, nearestInt(fr(invMin * (mins[j] as number))) & 0xff);
    packScaleMin(y, 4, j, ls, lm);
  }
  const d = writeF16(y, 0, fr(maxScale / 63));
  const dmin = writeF16(y, 2, fr(maxMin / 63));
  for (let j = 0; j < 8; j++) {
    const [sc, m] = getScaleMin(y, 4, j);
    const ds = fr(d * sc);
    if (!ds) continue;
    const dm = fr(dmin * m);
    for (let ii = 0; ii < 32; ii++) {
      const l = nearestInt(fr(fr((x[xo + 32 * j + ii] as number) + dm) / ds));
      L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
    }
  }
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) {
      let l1 = L[64 * c + l] as number;
      let l2 = L[64 * c + l + 32] as number;
      if (nmax === 31) {
        let h = y[16 + l] as number;
        if (l1 > 15) {
          l1 -= 16;
          h |= 1 << (2 * c);
        }
        if (l2 > 15) {
          l2 -= 16;
          h |= 2 << (2 * c);
        }
        y[16 + l] = h;
      }
      y[qsAt + 32 * c + l] = l1 | (l2 << 4);
    }
  }
}

/**
 * make_qx_quants with rmse_type 1 (weights x²), as quantize_row_q6_K_ref calls it: a signed scale
 * for n values on levels -nmax..nmax-1 (L gets level + nmax), searched over 19 trial scales.
 */
function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Uint8Array, Lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i] as number);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i] as number;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, Lo, Lo + n);
    return 0;
  }
  const level = (iscale: number, v: number) => Math.max(-nmax, Math.min(nmax - 1, nearestInt(fr(iscale * v))));
  let iscale = fr(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i] as number;
    const l = level(iscale, v);
    L[Lo + i] = l + nmax;
    const w = fr(v * v);
    sumlx = fr(sumlx + fr(fr(w * v) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  let scale = suml2 ? fr(sumlx / suml2) : 0;
  let best = fr(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fr(-fr(nmax + fr(F_0_1 * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i] as number;
      const l = level(iscale, v);
      const w = fr(v * v);
      sumlx = fr(sumlx + fr(fr(w * v) * l));
      suml2 = fr(suml2 + fr(fr(w * l) * l));
    }
    if (suml2 > 0 && fr(sumlx * sumlx) > fr(best * suml2)) {
      for (let i = 0; i < n; i++) L[Lo + i] = nmax + level(iscale, x[xo + i] as number);
      scale = fr(sumlx / suml2);
      best = fr(scale * sumlx);
    }
  }
  return scale;
}

/**
 * quantize_row_q6_K_ref: a signed scale per sub-block of 16 (make_qx_quants), quantised to int8
 * against the block's largest in magnitude (d = max_scale / -128), then every value requantised.
 */
function q6_kBlock(x: Float32Array, xo: number, y: Uint8Array): void {
  const L = new Uint8Array(256);
  const scales = new Float32Array(16);
  let maxScale = 0;
  let maxAbsScale = 0;
  for (let ib = 0; ib < 16; ib++) {
    const scale = makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib);
    scales[ib] = scale;
    if (Math.abs(scale) > maxAbsScale) {
      maxAbsScale = Math.abs(scale);
      maxScale = scale;
    }
  }
  y.fill(0);
  if (maxAbsScale < GROUP_MAX_EPS) return; // all zero, d = 0
  // ggml's block: ql[128] at 0, qh[64] at 128, scales[16] (int8) at 192, d at 208.
  const iscale = fr(-128 / maxScale);
  const d = writeF16(y, 208, fr(1 / iscale));
  const sc = new Int8Array(y.buffer, y.byteOffset + 192, 16);
  for (let ib = 0; ib < 16; ib++) sc[ib] = Math.min(127, nearestInt(fr(iscale * (scales[ib] as number))));
  for (let j = 0; j < 16; j++) {
    const ds = fr(d * (sc[j] as number));
    if (!ds) continue;
    for (let ii = 0; ii < 16; ii++) {
      const l = nearestInt(fr((x[xo + 16 * j + ii] as number) / ds));
      L[16 * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
    }
  }
  for (let n = 0; n < 2; n++) {
    const j = 128 * n;
    for (let l = 0; l < 32; l++) {
      const q = (i: number) => L[j + l + i] as number;
      y[64 * n + l] = (q(0) & 0xf) | ((q(64) & 0xf) << 4);
      y[64 * n + l + 32] = (q(32) & 0xf) | ((q(96) & 0xf) << 4);
      y[128 + 32 * n + l] = (q(0) >> 4) | ((q(32) >> 4) << 2) | ((q(64) >> 4) << 4) | ((q(96) >> 4) << 6);
    }
  }
}

/** ggml's quantize_row_q8_0_ref: d = amax / 127, q = round(x / d) (half away from zero). */
function q8_0Block(x: Float32Array, xo: number, y: Uint8Array): void {
  let amax = 0;
  for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[xo + j] as number));
  const d = fr(amax / 127);
  const id = d ? fr(1 / d) : 0;
  writeF16(y, 0, d);
  for (let j = 0; j < 32; j++) {
    const v = fr((x[xo + j] as number) * id);
    y[2 + j] = (Math.sign(v) * Math.round(Math.abs(v))) & 0xff;
  }
}

const BLOCK_QUANTIZERS: Record<BlockDType, (x: Float32Array, xo: number, y: Uint8Array) => void> = {
  q8_0: q8_0Block,
  q4_0: q4_0Block,
  q4_1: q4_1Block,
  q4_k: (x, xo, y) => kBlock(x, xo, y, 15),
  q5_k: (x, xo, y) => kBlock(x, xo, y, 31),
  q6_k: q6_kBlock,
};

/** ggml's consecutive blocks for `values` (a multiple of the block size), as its reference quantiser writes them. */
export function quantizeToGgmlBlocks(dtype: BlockDType, values: Float32Array): Uint8Array {
  const format = BLOCK_FORMATS[dtype];
  if (values.length % format.blockElements !== 0) {
    throw new RangeError(`${dtype} needs a multiple of ${format.blockElements} elements, got ${values.length}`);
  }
  const blocks = values.length / format.blockElements;
  const out = new Uint8Array(blocks * format.ggmlBytes);
  const quantize = BLOCK_QUANTIZERS[dtype];
  for (let b = 0; b < blocks; b++) {
    quantize(values, b * format.blockElements, out.subarray(b * format.ggmlBytes, (b + 1) * format.ggmlBytes));
  }
  return out;
}

/** `values` quantised to `dtype` by ggml's reference quantiser, in llama-ts storage (layout.ts). */
export function quantizeBlocks(dtype: BlockDType, values: Float32Array): Uint8Array {
  return blocksToStorage(dtype, quantizeToGgmlBlocks(dtype, values), values.length);
}
