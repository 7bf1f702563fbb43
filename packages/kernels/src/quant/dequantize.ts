/**
 * Dequantisation of the block formats (layout.ts) from llama-ts storage, as ggml's dequantize_row_*
 * computes it but in float64, where every value of every format is exact: the products (an f16
 * times small integers) fit f32 too, but the formats with a min (q4_1, q4_k, q5_k) add two terms
 * of different exponents, which f32 rounds. The tests' references and the CPU backend read
 * weights through here.
 */
import { F16_TABLE } from '../half.js';
import { BLOCK_FORMATS, type BlockDType, planeOffsets } from './layout.js';

const f16 = (bytes: Uint8Array, at: number) =>
  F16_TABLE[(bytes[at] as number) | ((bytes[at + 1] as number) << 8)] as number;

/** Sub-block j's 6-bit scale and min of a k-quant's 12 scale bytes at `at` (ggml's get_scale_min_k4). */
export function scaleMinK4(bytes: Uint8Array, at: number, j: number): [scale: number, min: number] {
  const q = (i: number) => bytes[at + i] as number;
  if (j < 4) return [q(j) & 63, q(j + 4) & 63];
  return [(q(j + 4) & 0xf) | ((q(j - 4) >> 6) << 4), (q(j + 4) >> 4) | ((q(j) >> 6) << 4)];
}

type Out = Float64Array | Float32Array;

/** Writes block `b`'s values (plane addresses `p`) to out[o ..]. */
const BLOCK_DEQUANTIZERS: Record<BlockDType, (bytes: Uint8Array, p: number[], out: Out, o: number) => void> = {
  q8_0: (bytes, [qs, d], out, o) => {
    const scale = f16(bytes, d as number);
    for (let j = 0; j < 32; j++) out[o + j] = scale * ((((bytes[(qs as number) + j] as number) << 24) >> 24) as number);
  },
  q4_0: (bytes, [qs, d], out, o) => {
    const scale = f16(bytes, d as number);
    for (let j = 0; j < 16; j++) {
      const q = bytes[(qs as number) + j] as number;
      out[o + j] = scale * ((q & 0xf) - 8);
      out[o + j + 16] = scale * ((q >> 4) - 8);
    }
  },
  q4_1: (bytes, [qs, dm], out, o) => {
    const scale = f16(bytes, dm as number);
    const min = f16(bytes, (dm as number) + 2);
    for (let j = 0; j < 16; j++) {
      const q = bytes[(qs as number) + j] as number;
      out[o + j] = scale * (q & 0xf) + min;
      out[o + j + 16] = scale * (q >> 4) + min;
    }
  },
  q4_k: (bytes, [qs, scales, dm], out, o) => kQuant(bytes, qs as number, -1, scales as number, dm as number, out, o),
  q5_k: (bytes, [qs, qh, scales, dm], out, o) =>
    kQuant(bytes, qs as number, qh as number, scales as number, dm as number, out, o),
  q6_k: (bytes, [ql, qh, scales, d], out, o) => {
    const scale = f16(bytes, d as number);
    for (let n = 0; n < 2; n++) {
      const l0 = (ql as number) + 64 * n;
      const h0 = (qh as number) + 32 * n;
      const s0 = (scales as number) + 8 * n;
      const sc = (i: number) => (((bytes[s0 + i] as number) << 24) >> 24) * scale;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = bytes[h0 + l] as number;
        const a = bytes[l0 + l] as number;
        const b = bytes[l0 + l + 32] as number;
        const at = o + 128 * n + l;
        out[at] = sc(is) * (((a & 0xf) | ((h & 3) << 4)) - 32);
        out[at + 32] = sc(is + 2) * (((b & 0xf) | (((h >> 2) & 3) << 4)) - 32);
        out[at + 64] = sc(is + 4) * (((a >> 4) | (((h >> 4) & 3) << 4)) - 32);
        out[at + 96] = sc(is + 6) * (((b >> 4) | (((h >> 6) & 3) << 4)) - 32);
      }
    }
  },
};

/** q4_k (qh < 0) and q5_k: four runs of 64 elements, two sub-blocks of 32 each. */
function kQuant(bytes: Uint8Array, qs: number, qh: number, scales: number, dm: number, out: Out, o: number): void {
  const d = f16(bytes, dm);
  const dmin = f16(bytes, dm + 2);
  for (let c = 0; c < 4; c++) {
    const [sc1, m1] = scaleMinK4(bytes, scales, 2 * c);
    const [sc2, m2] = scaleMinK4(bytes, scales, 2 * c + 1);
    for (let l = 0; l < 32; l++) {
      const q = bytes[qs + 32 * c + l] as number;
      const h = qh < 0 ? 0 : (bytes[qh + l] as number);
      const high1 = (h >> (2 * c)) & 1 ? 16 : 0;
      const high2 = (h >> (2 * c + 1)) & 1 ? 16 : 0;
      out[o + 64 * c + l] = d * sc1 * ((q & 0xf) + high1) - dmin * m1;
      out[o + 64 * c + 32 + l] = d * sc2 * ((q >> 4) + high2) - dmin * m2;
    }
  }
}

/**
 * Values of blocks firstBlock .. firstBlock + blockCount of a block tensor of `elements` elements
 * (storage layout), into out[outOffset ..]. A Float64Array gets them exactly; a Float32Array rounded
 * once.
 */
export function dequantizeBlocks(
  dtype: BlockDType,
  storage: Uint8Array,
  elements: number,
  firstBlock: number,
  blockCount: number,
  out: Out,
  outOffset = 0,
): void {
  const format = BLOCK_FORMATS[dtype];
  const offsets = planeOffsets(dtype, elements);
  const dequantize = BLOCK_DEQUANTIZERS[dtype];
  const at = new Array<number>(offsets.length);
  for (let b = firstBlock; b < firstBlock + blockCount; b++) {
    for (let i = 0; i < offsets.length; i++) {
      at[i] = (offsets[i] as number) + b * (format.planes[i]?.bytesPerBlock as number);
    }
    dequantize(storage, at, out, outOffset + (b - firstBlock) * format.blockElements);
  }
}

/** Every value of a block tensor, exactly (float64). */
export function dequantizeExact(dtype: BlockDType, storage: Uint8Array, elements: number): Float64Array {
  const out = new Float64Array(elements);
  dequantizeBlocks(dtype, storage, elements, 0, elements / BLOCK_FORMATS[dtype].blockElements, out);
  return out;
}
