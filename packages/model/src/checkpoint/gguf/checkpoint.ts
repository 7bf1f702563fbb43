import { constants, type FileHandle, open, stat } from 'node:fs/promises';
import { blocksToStorage, byteSize, q8_0ScalesOffset } from '@llama-ts/kernels';
import type { ModelArgs, RuntimeSizes } from '../../args.js';
import { ModelError } from '../../errors.js';
import { expectedShapes } from '../../shapes.js';
import { openRegularFile } from '../regular-file.js';
import { readExactly } from '../safetensors.js';
import type { CheckpointReader, CheckpointTensor, QuantizedDType, TensorDType } from '../types.js';
import { argsFromGGUF, checkArchitecture } from './args.js';
import { GGUFMetadata } from './metadata.js';
import { ggufNameForMeta, metaNameForGGUF, ROPE_FREQS_TENSOR } from './names.js';
import { type GGUFHeader, type GGUFTensorInfo, readGGUFHeaderFrom } from './reader.js';

/**
 * A `llama` GGUF file (llama.cpp, Ollama, LM Studio) as a checkpoint: its metadata as ModelArgs,
 * its tensors under Meta's names, each read from the file on demand (one tensor in memory at a
 * time). q/k rows are kept as stored: GGUF holds them in Meta's interleaved order.
 */

export interface GGUFCheckpointTensor extends CheckpointTensor<TensorDType> {
  /** The name in the file (llama.cpp's), for messages. */
  storedName: string;
  /** The ggml type in the file (F32, F16, BF16, Q8_0, ...). */
  storedType: string;
}

export interface GGUFCheckpoint {
  args: ModelArgs;
  header: GGUFHeader;
  metadata: GGUFMetadata;
  reader: CheckpointReader<TensorDType> & { tensors: GGUFCheckpointTensor[] };
}

/**
 * How each ggml type a checkpoint tensor may have is read: its dtype here and how the file's blocks
 * become the kernels' storage layout (the same bytes, each block's fields gathered into planes:
 * nothing is dequantised).
 */
const LOADABLE_TYPES: Readonly<
  Record<
    string,
    | { dtype: TensorDType; toStorage?: undefined }
    | { dtype: QuantizedDType; toStorage: (raw: Uint8Array, elements: number) => Uint8Array }
  >
> = {
  F32: { dtype: 'f32' },
  F16: { dtype: 'f16' },
  BF16: { dtype: 'bf16' },
  Q8_0: { dtype: 'q8_0' as const, toStorage: q8_0FromGGMLBlocks },
  Q4_0: blockType('q4_0'),
  Q4_1: blockType('q4_1'),
  Q4_K: blockType('q4_k'),
  Q5_K: blockType('q5_k'),
  Q6_K: blockType('q6_k'),
};

function blockType(dtype: QuantizedDType): {
  dtype: QuantizedDType;
  toStorage: (raw: Uint8Array, n: number) => Uint8Array;
} {
  return { dtype, toStorage: (raw: Uint8Array, elements: number) => blocksToStorage(dtype, raw, elements) };
}

/** Bytes of a ggml Q8_0 block: an f16 scale d, then 32 int8 quants (value = d × q). */
const Q8_0_GGML_BLOCK_BYTES = 34;
const Q8_0_ELEMENTS = 32;

/**
 * ggml's Q8_0 blocks (scale and quants interleaved, 34 bytes each) in the kernels' q8_0 layout:
 * the same quants and scales bit for bit, the quants of all blocks first, then all the scales (so
 * every GPU read is aligned). Nothing is dequantised.
 */
export function q8_0FromGGMLBlocks(raw: Uint8Array, elements: number): Uint8Array {
  const blocks = elements / Q8_0_ELEMENTS;
  const out = new Uint8Array(byteSize('q8_0', elements));
  const scales = q8_0ScalesOffset(elements);
  for (let block = 0; block < blocks; block++) {
    const from = block * Q8_0_GGML_BLOCK_BYTES;
    out[scales + 2 * block] = raw[from] as number;
    out[scales + 2 * block + 1] = raw[from + 1] as number;
    const to = block * Q8_0_ELEMENTS;
    for (let i = 0; i < Q8_0_ELEMENTS; i++) out[to + i] = raw[from + 2 + i] as number;
  }
  return out;
}

/** True when `path` starts with GGUF's magic number. */
export async function isGGUFFile(path: string): Promise<boolean> {
  let handle: FileHandle | undefined;
  try {
    // Never open what is not a regular file: opening a FIFO would block until a writer appears.
    if (!(await stat(path)).isFile()) return false;
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const magic = Buffer.alloc(4);
    const { bytesRead } = await handle.read(magic, 0, 4, 0);
    return bytesRead === 4 && magic.toString('latin1') === 'GGUF';
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/**
 * Opens a GGUF file: reads and checks its header, metadata and tensor infos (every tensor's name,
 * type, shape and extent), nothing of the tensor data but rope_freqs.weight's few values.
 * `beforeReading` sees the ModelArgs and each tensor's dtype before any tensor is read.
 */
export async function openGGUFCheckpoint(
  path: string,
  sizes: RuntimeSizes = {},
  beforeReading?: (args: ModelArgs, dtypeOf: (name: string) => TensorDType | undefined) => void,
): Promise<GGUFCheckpoint> {
  const handle = await openRegularFile(path, 'GGUF file');
  let closed = false;
  try {
    const header = await readGGUFHeaderFrom(handle, path);
    const metadata = new GGUFMetadata(header.metadata, path);
    checkArchitecture(metadata);
    const byName = new Map(header.tensors.map((tensor) => [tensor.name, tensor]));
    const ropeFreqsInfo = byName.get(ROPE_FREQS_TENSOR);
    const args = argsFromGGUF(
      {
        metadata,
        embeddingRows: byName.get('token_embd.weight')?.shape[0],
        ropeFreqs: ropeFreqsInfo ? await readRopeFreqs(handle, ropeFreqsInfo, path) : undefined,
      },
      sizes,
    );

    const tensors: GGUFCheckpointTensor[] = [];
    for (const info of header.tensors) {
      if (info.name === ROPE_FREQS_TENSOR) continue;
      const load = loadableType(info, path);
      tensors.push(checkpointTensor(info, metaNameForGGUF(info.name, path), load, path, handle, () => closed));
    }
    addTiedOutput(tensors);
    checkShapes(tensors, args, path);
    const dtypes = new Map(tensors.map((tensor) => [tensor.name, tensor.dtype]));
    beforeReading?.(args, (name) => dtypes.get(name));
    const reader = {
      tensors,
      close: async () => {
        if (closed) return;
        closed = true;
        await handle.close();
      },
    };
    return { args, header, metadata, reader };
  } catch (error) {
    closed = true;
    await handle.close();
    throw error;
  }
}

function loadableType(info: GGUFTensorInfo, path: string) {
  const name = info.type.name;
  const load = LOADABLE_TYPES[name];
  if (load) return load;
  const why = 'llama-ts does not support this type';
  throw new ModelError(
    `${path}: tensor "${info.name}" is ${name}; ${why}. Loadable types: ${Object.keys(LOADABLE_TYPES).join(', ')} ` +
      '(re-quantise with llama-quantize, e.g. to Q8_0)',
  );
}

function checkpointTensor(
  info: GGUFTensorInfo,
  metaName: string,
  load: (typeof LOADABLE_TYPES)[string] & object,
  path: string,
  handle: FileHandle,
  isClosed: () => boolean,
): GGUFCheckpointTensor {
  const elements = info.elements;
  const byteLength = load.toStorage ? byteSize(load.dtype, elements) : info.byteLength;
  return {
    name: metaName,
    storedName: info.name,
    storedType: info.type.name,
    shape: [...info.shape],
    dtype: load.dtype,
    byteLength,
    source: path,
    read: async () => {
      if (isClosed()) throw new ModelError(`${path}: cannot read tensor "${info.name}": the checkpoint was closed`);
      const raw = await readExactly(handle, info.start, info.byteLength, path, info.name);
      return load.toStorage ? load.toStorage(raw, elements) : raw;
    },
  };
}

async function readRopeFreqs(handle: FileHandle, info: GGUFTensorInfo, path: string): Promise<number[]> {
  if (info.type.name !== 'F32' || info.shape.length !== 1) {
    throw new ModelError(
      `${path}: tensor "${ROPE_FREQS_TENSOR}" is ${info.type.name} [${info.shape.join(', ')}]; expected F32 [head_dim / 2]`,
    );
  }
  const bytes = await readExactly(handle, info.start, info.byteLength, path, info.name);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: info.elements }, (_, i) => view.getFloat32(i * 4, true));
}

/** Tied models (Llama 3.2 1B/3B) have no output.weight: llama.cpp then projects with token_embd. */
function addTiedOutput(tensors: GGUFCheckpointTensor[]): void {
  const embedding = tensors.find((tensor) => tensor.name === 'tok_embeddings.weight');
  if (!embedding || tensors.some((tensor) => tensor.name === 'output.weight')) return;
  tensors.push({ ...embedding, name: 'output.weight', shape: [...embedding.shape], sameBytesAs: embedding.name });
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Every tensor the metadata implies present with its shape, none beyond them; named as in the file. */
function checkShapes(tensors: GGUFCheckpointTensor[], args: ModelArgs, path: string): void {
  const expected = expectedShapes(args);
  const found = new Map(tensors.map((tensor) => [tensor.name, tensor]));
  const problems: string[] = [];
  for (const tensor of tensors) {
    const shape = expected.get(tensor.name);
    if (!shape) {
      problems.push(
        `tensor "${tensor.storedName}" is beyond the model the metadata describes (llama.block_count ${args.nLayers})`,
      );
    } else if (fmt(shape) !== fmt(tensor.shape)) {
      problems.push(
        `tensor "${tensor.storedName}" has shape ${fmt(tensor.shape)}, but the metadata (${metadataKeysFor(tensor.name)}) gives ${fmt(shape)}`,
      );
    }
  }
  for (const [name, shape] of expected) {
    if (!found.has(name)) problems.push(`tensor "${ggufNameForMeta(name)}" ${fmt(shape)} is missing`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 6).join('; ');
    throw new ModelError(`${path}: ${shown}${problems.length > 6 ? `; and ${problems.length - 6} more` : ''}`);
  }
}

function metadataKeysFor(metaName: string): string {
  const dim = 'llama.embedding_length';
  if (metaName.endsWith('norm.weight')) return dim;
  if (metaName === 'tok_embeddings.weight' || metaName === 'output.weight') return `the vocabulary size, ${dim}`;
  if (metaName.endsWith('wq.weight') || metaName.endsWith('wo.weight')) return `${dim}, llama.attention.head_count`;
  if (metaName.endsWith('wk.weight') || metaName.endsWith('wv.weight')) {
    return `${dim}, llama.attention.head_count, llama.attention.head_count_kv`;
  }
  return `${dim}, llama.feed_forward_length`;
}
