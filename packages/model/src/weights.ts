import {
  type Backend,
  BLOCK_FORMATS,
  type BlockDType,
  bf16ToF16,
  bf16ToF32,
  blockElements,
  byteSize,
  dequantizeExact,
  f16ToF32,
  firstNonFinite,
  fromArray,
  fromBytes,
  isBlockDType,
  type Tensor,
  type WeightDType,
} from '@llama-ts/kernels';
import type { ModelArgs } from './args.js';
import type { CheckpointReader, CheckpointTensor, TensorDType } from './checkpoint/types.js';
import { ModelError } from './errors.js';
import { checkModelFits } from './footprint.js';
import { expectedShapes, LAYER_TENSORS } from './shapes.js';
import { storedDType, type WeightStorage } from './weight-storage.js';

export interface LayerWeights {
  attentionNorm: Tensor;
  wq: Tensor;
  wk: Tensor;
  wv: Tensor;
  wo: Tensor;
  ffnNorm: Tensor;
  w1: Tensor;
  w2: Tensor;
  w3: Tensor;
}

export interface LlamaWeights {
  tokEmbeddings: Tensor;
  layers: LayerWeights[];
  norm: Tensor;
  output: Tensor;
}

export interface LoadProgress {
  loadedBytes: number;
  totalBytes: number;
  /** The tensor just uploaded. */
  tensor: string;
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Missing, extra and mis-shaped tensors, each named with its file, before any byte is read. */
export function checkTensors(
  reader: CheckpointReader<TensorDType>,
  args: ModelArgs,
): Map<string, CheckpointTensor<TensorDType>> {
  const expected = expectedShapes(args);
  const found = new Map(reader.tensors.map((t) => [t.name, t]));
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const tensor = found.get(name);
    if (!tensor) problems.push(`tensor ${name} ${fmt(shape)} is missing`);
    else if (fmt(tensor.shape) !== fmt(shape)) {
      problems.push(`tensor ${name} in ${tensor.source} has shape ${fmt(tensor.shape)}, expected ${fmt(shape)}`);
    }
  }
  for (const tensor of reader.tensors) {
    if (!expected.has(tensor.name))
      problems.push(`tensor ${tensor.name} in ${tensor.source} is not part of a Llama model with these parameters`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).join('; ');
    throw new ModelError(
      `checkpoint does not match its parameters: ${shown}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`,
    );
  }
  return found;
}

/** Half-precision words of a byte array (copied only when it is not 2-byte aligned). */
function halfWords(bytes: Uint8Array): Uint16Array {
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
}

const elementCount = (tensor: CheckpointTensor<TensorDType>) => tensor.shape.reduce((a, b) => a * b, 1);

function asFloat32(tensor: CheckpointTensor<TensorDType>, bytes: Uint8Array): Float32Array {
  if (isBlockDType(tensor.dtype)) return new Float32Array(dequantizeExact(tensor.dtype, bytes, elementCount(tensor)));
  if (tensor.dtype === 'f16') return f16ToF32(halfWords(bytes));
  if (tensor.dtype === 'bf16') return bf16ToF32(halfWords(bytes));
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
}

/**
 * A block tensor's (GGUF's q8_0...) non-finite value: every block format keeps its f16 scales (d;
 * d and m; d and dmin) in its last storage plane, and a block's values are finite when they are.
 * Throws naming the tensor and the block.
 */
function checkBlockScales(tensor: CheckpointTensor<TensorDType>, dtype: BlockDType, bytes: Uint8Array): void {
  const elements = elementCount(tensor);
  const format = BLOCK_FORMATS[dtype];
  const perBlock = (format.planes.at(-1)?.bytesPerBlock ?? 0) / 2;
  const blocks = elements / format.blockElements;
  const start = byteSize(dtype, elements) - Math.ceil((blocks * perBlock * 2) / 4) * 4;
  const scales = bytes.subarray(start, start + blocks * perBlock * 2);
  const bad = firstNonFinite('f16', scales);
  if (bad >= 0) {
    throw new ModelError(
      `tensor ${tensor.name} in ${tensor.source}: the scale of ${dtype} block ${Math.floor(bad / perBlock)} is ` +
        `${f16ToF32(halfWords(scales))[bad]}; a weight must be finite`,
    );
  }
}

/**
 * Magnitudes from which a value stored as `dtype` is no longer finite: f16 rounds 65520 and above
 * to infinity (65504 is its largest finite value), and q8_0 keeps each block's scale max|x| / 127
 * as an f16.
 */
const OVERFLOW_AT: Partial<Record<WeightDType, number>> = { f16: 65520, q8_0: 127 * 65520 };

function firstOverflow(values: Float32Array, limit: number): number {
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i] as number) >= limit) return i;
  return -1;
}

/**
 * A finite weight that the storage type cannot hold is an error naming the tensor, the element and
 * the type (rather than an infinity that decodes as token 0 with NaN log-probs). Keeping just that
 * tensor in f32 is not an option: matmulSwiglu needs w1 and w3 in one type.
 */
function overflowError(
  tensor: CheckpointTensor<TensorDType>,
  index: number,
  value: number,
  dtype: WeightDType,
): ModelError {
  const why = dtype === 'q8_0' ? "q8_0's per-block f16 scale overflows" : "f16's largest finite value is 65504";
  return new ModelError(
    `tensor ${tensor.name} in ${tensor.source} holds ${value} at element ${index}, which ${dtype} storage cannot ` +
      `hold (${why}); load it with weightStorage 'f32' (llama-ts: --weight-storage f32)`,
  );
}

/**
 * Reads, checks and uploads one tensor. The common cases avoid an f32 copy of the tensor (which
 * would double peak memory): f32, f16 and a GGUF's block formats go up as they are, bf16 is
 * narrowed word by word to f16.
 */
async function upload(tensor: CheckpointTensor<TensorDType>, backend: Backend, dtype: WeightDType): Promise<Tensor> {
  const bytes = await tensor.read();
  if (bytes.byteLength !== tensor.byteLength) {
    throw new ModelError(
      `tensor ${tensor.name} in ${tensor.source}: read ${bytes.byteLength} bytes, expected ${tensor.byteLength}`,
    );
  }
  if (isBlockDType(tensor.dtype)) checkBlockScales(tensor, tensor.dtype, bytes);
  else {
    const bad = firstNonFinite(tensor.dtype, bytes);
    if (bad >= 0) {
      const value = asFloat32(tensor, bytes)[bad];
      throw new ModelError(
        `tensor ${tensor.name} in ${tensor.source} holds ${value} at element ${bad}; a weight must be finite`,
      );
    }
  }
  const block = blockElements(dtype);
  if ((tensor.shape.at(-1) ?? 0) % block !== 0) {
    throw new ModelError(
      `tensor ${tensor.name}: ${dtype} storage needs rows whose length is a multiple of ${block}, got ${fmt(tensor.shape)}`,
    );
  }
  if (dtype === tensor.dtype && (dtype === 'f32' || bytes.byteLength % 4 === 0)) {
    return fromBytes(backend, bytes, tensor.shape, dtype);
  }
  if (dtype === 'f16' && tensor.dtype === 'bf16') {
    const words = halfWords(bytes);
    const narrowed = bf16ToF16(words);
    // The conversion's result is checked: a bf16 above f16's range has become infinite.
    const overflow = firstNonFinite('f16', new Uint8Array(narrowed.buffer));
    if (overflow >= 0) throw overflowError(tensor, overflow, bf16ToF32(words)[overflow] as number, dtype);
    if (narrowed.byteLength % 4 === 0) return fromBytes(backend, new Uint8Array(narrowed.buffer), tensor.shape, 'f16');
  }
  const values = asFloat32(tensor, bytes);
  const limit = dtype === tensor.dtype ? undefined : OVERFLOW_AT[dtype];
  if (limit !== undefined) {
    const overflow = firstOverflow(values, limit);
    if (overflow >= 0) throw overflowError(tensor, overflow, values[overflow] as number, dtype);
  }
  return fromArray(backend, values, tensor.shape, dtype);
}

/**
 * Streams a checkpoint to the device one tensor at a time (peak host memory: about one tensor),
 * after checking names and shapes against the model's parameters.
 */
export async function loadWeights(
  reader: CheckpointReader<TensorDType>,
  args: ModelArgs,
  backend: Backend,
  options: {
    storage?: WeightStorage;
    onProgress?: (progress: LoadProgress) => void;
    /** Names the parameters' file in errors (default: "the model's parameters"). */
    source?: string;
  } = {},
): Promise<LlamaWeights> {
  const storage = options.storage ?? 'auto';
  // Before anything is built from the sizes (even the list of expected tensors), with the
  // checkpoint's own dtypes ('auto' keeps f32 as f32).
  const dtypes = new Map(reader.tensors.map((t) => [t.name, t.dtype]));
  checkModelFits(args, storage, backend, {
    ...(options.source ? { source: options.source } : {}),
    checkpointDType: (name) => dtypes.get(name),
  });
  const tensors = checkTensors(reader, args);
  const totalBytes = reader.tensors.reduce((sum, t) => sum + t.byteLength, 0);
  let loadedBytes = 0;
  const uploaded: Tensor[] = [];
  const byName = new Map<string, { tensor: Tensor; dtype: WeightDType }>();
  const load = async (name: string): Promise<Tensor> => {
    const tensor = tensors.get(name) as CheckpointTensor<TensorDType>;
    const dtype = storedDType(name, tensor.dtype, storage);
    // A tied output stored as the embedding is stored is the embedding's tensor: not read or held twice.
    const same = tensor.sameBytesAs === undefined ? undefined : byName.get(tensor.sameBytesAs);
    const result = same?.dtype === dtype ? same.tensor : await upload(tensor, backend, dtype);
    byName.set(name, { tensor: result, dtype });
    uploaded.push(result);
    loadedBytes += tensor.byteLength;
    options.onProgress?.({ loadedBytes, totalBytes, tensor: name });
    return result;
  };
  try {
    const tokEmbeddings = await load('tok_embeddings.weight');
    const layers: LayerWeights[] = [];
    for (let i = 0; i < args.nLayers; i++) {
      const layer: Partial<LayerWeights> = {};
      for (const [key, suffix] of Object.entries(LAYER_TENSORS)) {
        layer[key as keyof LayerWeights] = await load(`layers.${i}.${suffix}`);
      }
      layers.push(layer as LayerWeights);
    }
    const norm = await load('norm.weight');
    const output = await load('output.weight');
    return { tokEmbeddings, layers, norm, output };
  } catch (error) {
    for (const tensor of uploaded) tensor.dispose();
    throw error;
  }
}
