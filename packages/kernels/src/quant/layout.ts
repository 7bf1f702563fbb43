/**
 * llama.cpp's block formats (ggml-common.h) and how llama-ts stores them. A block format packs
 * `blockElements` consecutive elements of a row into one block of `ggmlBytes` bytes, made of fixed
 * byte ranges ("planes": scales, mins, packed quants). GGUF files hold the blocks one after another,
 * 18/20/144/176/210 bytes each, so nothing in them is 4-byte aligned. llama-ts stores each plane of
 * every block contiguously instead (all the blocks' quants, then all their scales, ...), the largest
 * plane first and each plane padded to 4 bytes: every GPU read is an aligned word, the quant planes
 * (multiples of 16 bytes per block) start 16-byte aligned, and rows stay contiguous within each
 * plane, so a run of rows is a run in every plane. The bytes themselves are ggml's, unchanged:
 * converting between the two layouts is a copy of byte ranges (blocksToStorage, storageToBlocks).
 *
 * - q8_0: 32 elements: d (f16), qs[32] (int8). value = d·q.
 * - q4_0: 32 elements: d (f16), qs[16]: element j in the low nibble of qs[j], element j + 16 in
 *   the high nibble. value = d·(q - 8).
 * - q4_1: 32 elements: d, m (f16), qs[16] as q4_0. value = d·q + m.
 * - q4_k: 256 elements in 8 sub-blocks of 32: d, dmin (f16), scales[12] (eight 6-bit scales and
 *   eight 6-bit mins, packed as get_scale_min_k4 reads them), qs[128]: 64 elements per 32 bytes,
 *   sub-block 2c in the low nibbles of bytes 32c..32c+31, sub-block 2c+1 in their high nibbles.
 *   value = d·sc·q - dmin·m.
 * - q5_k: as q4_k plus qh[32] (before qs): element 64c + l has its fifth bit at bit 2c of qh[l],
 *   element 64c + 32 + l at bit 2c + 1. value = d·sc·(q + 16·h) - dmin·m.
 * - q6_k: 256 elements in 16 sub-blocks of 16: ql[128] (low 4 bits), qh[64] (high 2 bits),
 *   scales[16] (int8), d (f16). Per 128 elements n (ql + 64n, qh + 32n), l in 0..31: element l is
 *   ql[l] low | qh[l] bits 0-1, l + 32 is ql[l + 32] low | bits 2-3, l + 64 is ql[l] high | bits
 *   4-5, l + 96 is ql[l + 32] high | bits 6-7. value = d·scales[element / 16]·(q - 32).
 */

export type BlockDType = 'q8_0' | 'q4_0' | 'q4_1' | 'q4_k' | 'q5_k' | 'q6_k';

export interface Plane {
  /** ggml's field name(s). */
  name: string;
  /** Where the plane starts in ggml's block. */
  ggmlOffset: number;
  bytesPerBlock: number;
}

export interface BlockFormat {
  blockElements: number;
  ggmlBytes: number;
  /** In storage order: the largest first (so the quants start at 0, 16-byte aligned). */
  planes: readonly Plane[];
}

const plane = (name: string, ggmlOffset: number, bytesPerBlock: number): Plane => ({ name, ggmlOffset, bytesPerBlock });

export const BLOCK_FORMATS: Readonly<Record<BlockDType, BlockFormat>> = Object.freeze({
  q8_0: { blockElements: 32, ggmlBytes: 34, planes: [plane('qs', 2, 32), plane('d', 0, 2)] },
  q4_0: { blockElements: 32, ggmlBytes: 18, planes: [plane('qs', 2, 16), plane('d', 0, 2)] },
  q4_1: { blockElements: 32, ggmlBytes: 20, planes: [plane('qs', 4, 16), plane('d, m', 0, 4)] },
  q4_k: {
    blockElements: 256,
    ggmlBytes: 144,
    planes: [plane('qs', 16, 128), plane('scales', 4, 12), plane('d, dmin', 0, 4)],
  },
  q5_k: {
    blockElements: 256,
    ggmlBytes: 176,
    planes: [plane('qs', 48, 128), plane('qh', 16, 32), plane('scales', 4, 12), plane('d, dmin', 0, 4)],
  },
  q6_k: {
    blockElements: 256,
    ggmlBytes: 210,
    planes: [plane('ql', 0, 128), plane('qh', 128, 64), plane('scales', 192, 16), plane('d', 208, 2)],
  },
});

export const BLOCK_DTYPES = Object.keys(BLOCK_FORMATS) as readonly BlockDType[];

export function isBlockDType(dtype: string): dtype is BlockDType {
  return Object.hasOwn(BLOCK_FORMATS, dtype);
}

const align4 = (bytes: number) => Math.ceil(bytes / 4) * 4;

/** Byte offset of each plane in the storage of `elements` elements (a multiple of the block size). */
export function planeOffsets(dtype: BlockDType, elements: number): number[] {
  const format = BLOCK_FORMATS[dtype];
  const blocks = elements / format.blockElements;
  const offsets: number[] = [];
  let at = 0;
  for (const p of format.planes) {
    offsets.push(at);
    at += align4(blocks * p.bytesPerBlock);
  }
  return offsets;
}

/** Storage bytes of `elements` elements: every plane padded to 4 bytes. */
export function blockStorageBytes(dtype: BlockDType, elements: number): number {
  const format = BLOCK_FORMATS[dtype];
  const blocks = Math.ceil(elements / format.blockElements);
  let bytes = 0;
  for (const p of format.planes) bytes += align4(blocks * p.bytesPerBlock);
  return bytes;
}

/** Bytes of `elements` elements in ggml's own layout (as in a GGUF file). */
export function ggmlBytes(dtype: BlockDType, elements: number): number {
  const format = BLOCK_FORMATS[dtype];
  return (elements / format.blockElements) * format.ggmlBytes;
}

/** ggml's consecutive blocks → llama-ts storage (see above). `elements` must be whole blocks. */
export function blocksToStorage(dtype: BlockDType, blocks: Uint8Array, elements: number): Uint8Array {
  const format = BLOCK_FORMATS[dtype];
  const count = elements / format.blockElements;
  if (!Number.isInteger(count) || blocks.byteLength < count * format.ggmlBytes) {
    throw new RangeError(
      `${dtype}: ${elements} elements take ${Math.ceil(count) * format.ggmlBytes} bytes of whole ${format.blockElements}-element blocks, got ${blocks.byteLength}`,
    );
  }
  const out = new Uint8Array(blockStorageBytes(dtype, elements));
  const offsets = planeOffsets(dtype, elements);
  format.planes.forEach((p, i) => {
    copyPlane(blocks, p.ggmlOffset, format.ggmlBytes, out, offsets[i] as number, p.bytesPerBlock, count);
  });
  return out;
}

/**
 * Gathers one field of `count` blocks (`width` bytes at `from`, every `stride` bytes) into
 * consecutive bytes at `to`, in the widest words (4, 2 or 1 bytes) that every offset allows: a
 * plain loop, as a subarray per block (millions in a 1B model) costs more than the copy.
 */
function copyPlane(
  blocks: Uint8Array,
  from: number,
  stride: number,
  out: Uint8Array,
  to: number,
  width: number,
  count: number,
): void {
  const fits = (word: number) =>
    [blocks.byteOffset + from, stride, out.byteOffset + to, width].every((n) => n % word === 0);
  // One loop per element type: a loop that sees several typed-array kinds is many times slower.
  if (fits(4)) {
    const source = new Uint32Array(blocks.buffer, blocks.byteOffset, blocks.byteLength >>> 2);
    const target = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
    gather32(source, from >>> 2, stride >>> 2, target, to >>> 2, width >>> 2, count);
  } else if (fits(2)) {
    const source = new Uint16Array(blocks.buffer, blocks.byteOffset, blocks.byteLength >>> 1);
    const target = new Uint16Array(out.buffer, out.byteOffset, out.byteLength >>> 1);
    gather16(source, from >>> 1, stride >>> 1, target, to >>> 1, width >>> 1, count);
  } else {
    gather8(blocks, from, stride, out, to, width, count);
  }
}

function gather32(s: Uint32Array, from: number, stride: number, t: Uint32Array, to: number, w: number, n: number) {
  for (let b = 0; b < n; b++, from += stride - w) for (let k = 0; k < w; k++) t[to++] = s[from++] as number;
}

function gather16(s: Uint16Array, from: number, stride: number, t: Uint16Array, to: number, w: number, n: number) {
  for (let b = 0; b < n; b++, from += stride - w) for (let k = 0; k < w; k++) t[to++] = s[from++] as number;
}

function gather8(s: Uint8Array, from: number, stride: number, t: Uint8Array, to: number, w: number, n: number) {
  for (let b = 0; b < n; b++, from += stride - w) for (let k = 0; k < w; k++) t[to++] = s[from++] as number;
}

/** The inverse of blocksToStorage: llama-ts storage → ggml's consecutive blocks. */
export function storageToBlocks(dtype: BlockDType, storage: Uint8Array, elements: number): Uint8Array {
  const format = BLOCK_FORMATS[dtype];
  const count = elements / format.blockElements;
  const out = new Uint8Array(count * format.ggmlBytes);
  const offsets = planeOffsets(dtype, elements);
  format.planes.forEach((p, i) => {
    const base = offsets[i] as number;
    for (let b = 0; b < count; b++) {
      const from = base + b * p.bytesPerBlock;
      out.set(storage.subarray(from, from + p.bytesPerBlock), b * format.ggmlBytes + p.ggmlOffset);
    }
  });
  return out;
}

/**
 * Copies rows [fromRow, fromRow + rowCount) of a block tensor with `cols` elements per row
 * (`srcElements` in all) to row `toRow` of another (`dstElements` in all), plane by plane: the
 * chunking of large tensors on WebGPU, and reading chunks back.
 */
export function copyBlockRows(
  dtype: BlockDType,
  cols: number,
  src: Uint8Array,
  srcElements: number,
  fromRow: number,
  dst: Uint8Array,
  dstElements: number,
  toRow: number,
  rowCount: number,
): void {
  const format = BLOCK_FORMATS[dtype];
  const blocksPerRow = cols / format.blockElements;
  const srcOffsets = planeOffsets(dtype, srcElements);
  const dstOffsets = planeOffsets(dtype, dstElements);
  format.planes.forEach((p, i) => {
    const rowBytes = blocksPerRow * p.bytesPerBlock;
    const from = (srcOffsets[i] as number) + fromRow * rowBytes;
    dst.set(src.subarray(from, from + rowCount * rowBytes), (dstOffsets[i] as number) + toRow * rowBytes);
  });
}
