import { open } from 'node:fs/promises';
import { BLOCK_FORMATS, f32ToF16, f32ToF16Bits, quantizeToGgmlBlocks } from '@llama-ts/kernels';
import { ModelError } from '../../errors.js';
import { GGML_TYPES, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_SCALAR_BYTES, GGUFValueType } from './format.js';
import { ggufNameForMeta } from './names.js';

/**
 * A small GGUF (v3) writer: the container (metadata of every type, tensor infos, aligned data),
 * the float and Q8_0 encodings as llama.cpp writes them, and a `llama` model from Meta-named
 * tensors. It makes the files the tests (and benchmarks) load; it is not a converter for real
 * models (no tokenizer conversion, no k-quants).
 */

export interface GGUFValueToWrite {
  type: GGUFValueType;
  /** For arrays: the elements' type. */
  elementType?: GGUFValueType;
  value: number | bigint | boolean | string | readonly (number | bigint | boolean | string)[];
}

/** Metadata in the order it is written. */
export type GGUFMetadataToWrite = Readonly<Record<string, GGUFValueToWrite>>;

export const ggufValue = {
  u32: (value: number): GGUFValueToWrite => ({ type: GGUFValueType.UINT32, value }),
  i32: (value: number): GGUFValueToWrite => ({ type: GGUFValueType.INT32, value }),
  u64: (value: number | bigint): GGUFValueToWrite => ({ type: GGUFValueType.UINT64, value }),
  f32: (value: number): GGUFValueToWrite => ({ type: GGUFValueType.FLOAT32, value }),
  bool: (value: boolean): GGUFValueToWrite => ({ type: GGUFValueType.BOOL, value }),
  string: (value: string): GGUFValueToWrite => ({ type: GGUFValueType.STRING, value }),
  array: (elementType: GGUFValueType, value: readonly (number | string | boolean)[]): GGUFValueToWrite => ({
    type: GGUFValueType.ARRAY,
    elementType,
    value,
  }),
};

/** The ggml types the writer encodes from f32 values. */
export type GGMLEncodableType = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q4_1' | 'Q4_K' | 'Q5_K' | 'Q6_K';

export interface GGUFTensorToWrite {
  name: string;
  /** Row-major (written reversed, as ggml's ne). */
  shape: readonly number[];
  /** A ggml type name: F32, F16, BF16, Q8_0, Q4_K, ... */
  type: string;
  /** The tensor's bytes in the ggml type's own layout. */
  data: Uint8Array;
}

export interface GGUFToWrite {
  metadata: GGUFMetadataToWrite;
  tensors: readonly GGUFTensorToWrite[];
  /** Default 32; another value is written as general.alignment. */
  alignment?: number;
  /** Default 3. */
  version?: number;
}

const encoder = new TextEncoder();
const TYPE_IDS: ReadonlyMap<string, number> = new Map([...GGML_TYPES.values()].map((type) => [type.name, type.id]));
const pad = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;

/** Grows as values are appended; little-endian. */
class ByteBuilder {
  #bytes = new Uint8Array(1 << 16);
  #view = new DataView(this.#bytes.buffer);
  length = 0;

  #reserve(extra: number): number {
    const at = this.length;
    if (at + extra > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, at + extra));
      grown.set(this.#bytes.subarray(0, at));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.length += extra;
    return at;
  }

  bytes(data: Uint8Array): void {
    const at = this.#reserve(data.length);
    this.#bytes.set(data, at);
  }

  // Reserve first: growing replaces the view.
  u32(value: number): void {
    const at = this.#reserve(4);
    this.#view.setUint32(at, value, true);
  }

  u64(value: number | bigint): void {
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, BigInt(value), true);
  }

  string(value: string): void {
    const data = encoder.encode(value);
    this.u64(data.length);
    this.bytes(data);
  }

  scalar(type: GGUFValueType, value: number | bigint | boolean | string, key: string): void {
    if (type === GGUFValueType.STRING) {
      this.string(String(value));
      return;
    }
    const size = GGUF_SCALAR_BYTES[type];
    if (size === undefined) throw new ModelError(`writeGGUF: metadata "${key}": type ${type} is not a scalar type`);
    const at = this.#reserve(size);
    const view = this.#view;
    const n = Number(value);
    switch (type) {
      case GGUFValueType.UINT8:
        view.setUint8(at, n);
        return;
      case GGUFValueType.INT8:
        view.setInt8(at, n);
        return;
      case GGUFValueType.UINT16:
        view.setUint16(at, n, true);
        return;
      case GGUFValueType.INT16:
        view.setInt16(at, n, true);
        return;
      case GGUFValueType.UINT32:
        view.setUint32(at, n, true);
        return;
      case GGUFValueType.INT32:
        view.setInt32(at, n, true);
        return;
      case GGUFValueType.FLOAT32:
        view.setFloat32(at, n, true);
        return;
      case GGUFValueType.BOOL:
        view.setUint8(at, value ? 1 : 0);
        return;
      case GGUFValueType.UINT64:
        view.setBigUint64(at, BigInt(value as number | bigint), true);
        return;
      case GGUFValueType.INT64:
        view.setBigInt64(at, BigInt(value as number | bigint), true);
        return;
      case GGUFValueType.FLOAT64:
        view.setFloat64(at, n, true);
        return;
    }
  }

  result(): Uint8Array {
    return this.#bytes.subarray(0, this.length);
  }
}

/** The header: magic, version, counts, metadata and tensor infos (unpadded). */
function headerBytes(file: GGUFToWrite, alignment: number): { header: Uint8Array; offsets: number[] } {
  const metadata: Record<string, GGUFValueToWrite> = { ...file.metadata };
  if (alignment !== GGUF_DEFAULT_ALIGNMENT && !('general.alignment' in metadata)) {
    metadata['general.alignment'] = ggufValue.u32(alignment);
  }
  const out = new ByteBuilder();
  out.u32(GGUF_MAGIC);
  out.u32(file.version ?? 3);
  out.u64(file.tensors.length);
  out.u64(Object.keys(metadata).length);
  for (const [key, entry] of Object.entries(metadata)) {
    out.string(key);
    out.u32(entry.type);
    if (entry.type === GGUFValueType.ARRAY) {
      const values = entry.value as readonly (number | bigint | boolean | string)[];
      const elementType = entry.elementType ?? GGUFValueType.UINT32;
      out.u32(elementType);
      out.u64(values.length);
      for (const value of values) out.scalar(elementType, value, key);
    } else {
      out.scalar(entry.type, entry.value as number | bigint | boolean | string, key);
    }
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const tensor of file.tensors) {
    const typeId = TYPE_IDS.get(tensor.type);
    if (typeId === undefined)
      throw new ModelError(`writeGGUF: tensor "${tensor.name}": unknown ggml type ${tensor.type}`);
    out.string(tensor.name);
    out.u32(tensor.shape.length);
    for (const size of [...tensor.shape].reverse()) out.u64(size);
    out.u32(typeId);
    out.u64(offset);
    offsets.push(offset);
    offset += pad(tensor.data.length, alignment);
  }
  return { header: out.result(), offsets };
}

/** Writes a GGUF file: header, padding to the alignment, then each tensor padded to it. */
export async function writeGGUF(path: string, file: GGUFToWrite): Promise<void> {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  for (const tensor of file.tensors) {
    const type = GGML_TYPES.get(TYPE_IDS.get(tensor.type) ?? -1);
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    if (type && tensor.data.length !== (elements / type.blockElements) * type.blockBytes) {
      throw new ModelError(
        `writeGGUF: tensor "${tensor.name}": ${tensor.data.length} bytes for ${type.name} [${tensor.shape.join(', ')}]`,
      );
    }
  }
  const { header } = headerBytes(file, alignment);
  const handle = await open(path, 'w');
  try {
    let position = 0;
    const write = async (data: Uint8Array) => {
      await handle.write(data, 0, data.length, position);
      position += data.length;
    };
    await write(header);
    await write(new Uint8Array(pad(position, alignment) - position));
    for (const tensor of file.tensors) {
      await write(tensor.data);
      await write(new Uint8Array(pad(tensor.data.length, alignment) - tensor.data.length));
    }
  } finally {
    await handle.close();
  }
}

/** C's roundf: halves away from zero (llama.cpp's quantisers use it). */
const roundHalfAway = (x: number) => Math.sign(x) * Math.floor(Math.abs(x) + 0.5);

/**
 * f32 values in a ggml type's layout, as llama.cpp encodes them: Q8_0 as quantize_row_q8_0_ref
 * (per block of 32, d = amax / 127 stored as f16, q = roundf(x · (1/d)) from the f32 d); Q4_0, Q4_1,
 * Q4_K, Q5_K and Q6_K by the kernels' ports of ggml's reference quantisers.
 */
export function encodeGGML(values: Float32Array, type: GGMLEncodableType): Uint8Array {
  const n = values.length;
  switch (type) {
    case 'F32':
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case 'F16':
      return new Uint8Array(f32ToF16(values).buffer);
    case 'BF16': {
      const bits = new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const x = bits[i] as number;
        // Round to nearest even on the dropped 16 bits (NaN stays NaN: no test needs it).
        out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
      }
      return new Uint8Array(out.buffer);
    }
    case 'Q8_0': {
      if (n % 32 !== 0) throw new ModelError(`encodeGGML: Q8_0 needs a multiple of 32 values, got ${n}`);
      const out = new Uint8Array((n / 32) * 34);
      const view = new DataView(out.buffer);
      for (let block = 0; block < n / 32; block++) {
        let amax = 0;
        for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(values[block * 32 + i] as number));
        const d = Math.fround(amax / 127);
        const id = d === 0 ? 0 : Math.fround(1 / d);
        view.setUint16(block * 34, f32ToF16Bits(d), true);
        for (let i = 0; i < 32; i++) {
          view.setInt8(block * 34 + 2 + i, roundHalfAway(Math.fround((values[block * 32 + i] as number) * id)));
        }
      }
      return out;
    }
    default: {
      // The 4-6-bit formats: the kernels' ports of ggml's reference quantisers (quantize_row_*_ref).
      const dtype = type.toLowerCase() as 'q4_0' | 'q4_1' | 'q4_k' | 'q5_k' | 'q6_k';
      const block = BLOCK_FORMATS[dtype].blockElements;
      if (n % block !== 0) throw new ModelError(`encodeGGML: ${type} needs a multiple of ${block} values, got ${n}`);
      return quantizeToGgmlBlocks(dtype, values);
    }
  }
}

export interface LlamaGGUFToWrite {
  /** The metadata llama.cpp reads for a `llama` model. */
  params: {
    dim: number;
    nLayers: number;
    nHeads: number;
    nKvHeads: number;
    ffnHiddenDim: number;
    vocabSize: number;
    normEps: number;
    ropeTheta: number;
    contextLength: number;
  };
  /** Meta-named tensors (tok_embeddings.weight, layers.0.attention.wq.weight, ...) in Meta's row order. */
  tensors: readonly { name: string; shape: readonly number[]; values: Float32Array }[];
  /** The type of the matrices (norms are always F32, as llama.cpp writes them). Default F32. */
  type?: GGMLEncodableType;
  /** Per-tensor overrides by Meta name. */
  types?: Readonly<Record<string, GGMLEncodableType>>;
  /** Omit output.weight (tied embeddings, as Llama 3.2 1B/3B). */
  tieEmbeddings?: boolean;
  /** Llama 3.1 scaling as llama.cpp stores it: rope_freqs.weight, one divisor per frequency. */
  ropeFreqFactors?: readonly number[];
  /** More metadata (the tokenizer's, general.name, ...), written after the model's. */
  metadata?: GGUFMetadataToWrite;
}

/**
 * Writes a `llama` GGUF as llama.cpp's converter lays it out: the model's metadata, token_embd,
 * rope_freqs, blk.N.* and the output tensors, q/k rows in Meta's order (which GGUF keeps).
 */
export async function writeLlamaGGUF(path: string, model: LlamaGGUFToWrite): Promise<void> {
  const p = model.params;
  const metadata: GGUFMetadataToWrite = {
    'general.architecture': ggufValue.string('llama'),
    'llama.vocab_size': ggufValue.u32(p.vocabSize),
    'llama.context_length': ggufValue.u32(p.contextLength),
    'llama.embedding_length': ggufValue.u32(p.dim),
    'llama.block_count': ggufValue.u32(p.nLayers),
    'llama.feed_forward_length': ggufValue.u32(p.ffnHiddenDim),
    'llama.attention.head_count': ggufValue.u32(p.nHeads),
    'llama.attention.head_count_kv': ggufValue.u32(p.nKvHeads),
    'llama.rope.freq_base': ggufValue.f32(p.ropeTheta),
    'llama.attention.layer_norm_rms_epsilon': ggufValue.f32(p.normEps),
    'llama.rope.dimension_count': ggufValue.u32(p.dim / p.nHeads),
    ...model.metadata,
  };
  const tensors: GGUFTensorToWrite[] = [];
  const add = (name: string, shape: readonly number[], values: Float32Array, type: GGMLEncodableType) =>
    tensors.push({ name, shape, type, data: encodeGGML(values, type) });
  const ordered = [...model.tensors].sort((a, b) => ggufOrder(a.name) - ggufOrder(b.name));
  for (const tensor of ordered) {
    if (model.tieEmbeddings && tensor.name === 'output.weight') continue;
    const type = tensor.name.endsWith('norm.weight') ? 'F32' : (model.types?.[tensor.name] ?? model.type ?? 'F32');
    add(ggufNameForMeta(tensor.name), tensor.shape, tensor.values, type);
    if (tensor.name === 'tok_embeddings.weight' && model.ropeFreqFactors) {
      add('rope_freqs.weight', [model.ropeFreqFactors.length], Float32Array.from(model.ropeFreqFactors), 'F32');
    }
  }
  await writeGGUF(path, { metadata, tensors });
}

/** token_embd first, then layer by layer, then output_norm and output (llama.cpp's order). */
function ggufOrder(metaName: string): number {
  if (metaName === 'tok_embeddings.weight') return -1;
  const layer = /^layers\.(\d+)\./.exec(metaName);
  if (layer) return Number(layer[1]);
  return metaName === 'norm.weight' ? 1e9 : 1e9 + 1;
}
