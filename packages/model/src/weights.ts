import {
  type Backend,
  bf16ToF16,
  bf16ToF32,
  dequantizeQ8_0,
  f16ToF32,
  firstNonFinite,
  fromArray,
  fromBytes,
  q8_0ScalesOffset,
  type Tensor,
  type WeightDType,
} from '@llama-ts/kernels';
import type { ModelArgs } from './args.js';
import type { CheckpointReader, CheckpointTensor, TensorDType } from './checkpoint/types.js';
import { ModelError } from './errors.js';

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

/**
 * How matrices are stored on the device. 'auto' keeps f32, f16 and q8_0 as they are and stores bf16
 * as f16 (exact for every value in f16's normal range; half the memory of f32). Norm weights are
 * always f32.
 */
export type WeightStorage = 'auto' | WeightDType;

export interface LoadProgress {
  loadedBytes: number;
  totalBytes: number;
  /** The tensor just uploaded. */
  tensor: string;
}

const LAYER_TENSORS = {
  attentionNorm: 'attention_norm.weight',
  wq: 'attention.wq.weight',
  wk: 'attention.wk.weight',
  wv: 'attention.wv.weight',
  wo: 'attention.wo.weight',
  ffnNorm: 'ffn_norm.weight',
  w1: 'feed_forward.w1.weight',
  w2: 'feed_forward.w2.weight',
  w3: 'feed_forward.w3.weight',
} as const satisfies Record<keyof LayerWeights, string>;

/** Every tensor a checkpoint of these args must hold, by Meta name, with its shape. */
export function expectedShapes(args: ModelArgs): Map<string, number[]> {
  const { dim, nHeads, nKvHeads, headDim, ffnHiddenDim, vocabSize } = args;
  const shapes = new Map<string, number[]>([
    ['tok_embeddings.weight', [vocabSize, dim]],
    ['norm.weight', [dim]],
    ['output.weight', [vocabSize, dim]],
  ]);
  const layer: Record<keyof LayerWeights, number[]> = {
    attentionNorm: [dim],
    wq: [nHeads * headDim, dim],
    wk: [nKvHeads * headDim, dim],
    wv: [nKvHeads * headDim, dim],
    wo: [dim, nHeads * headDim],
    ffnNorm: [dim],
    w1: [ffnHiddenDim, dim],
    w2: [dim, ffnHiddenDim],
    w3: [ffnHiddenDim, dim],
  };
  for (let i = 0; i < args.nLayers; i++) {
    for (const [key, suffix] of Object.entries(LAYER_TENSORS)) {
      shapes.set(`layers.${i}.${suffix}`, layer[key as keyof LayerWeights]);
    }
  }
  return shapes;
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

/**
 * The dtype a tensor is stored as on the device, given its dtype in the checkpoint; before the
 * checkpoint is opened (`checkpointDType` undefined), 'auto' counts f16, the least it stores.
 */
export function storedDType(
  name: string,
  checkpointDType: TensorDType | undefined,
  storage: WeightStorage,
): WeightDType {
  if (name.endsWith('norm.weight')) return 'f32';
  if (storage !== 'auto') return storage;
  return checkpointDType === 'f32' || checkpointDType === 'q8_0' ? checkpointDType : 'f16';
}

/** Half-precision words of a byte array (copied only when it is not 2-byte aligned). */
function halfWords(bytes: Uint8Array): Uint16Array {
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
}

function elementCount(tensor: CheckpointTensor<TensorDType>): number {
  return tensor.shape.reduce((a, b) => a * b, 1);
}

function asFloat32(tensor: CheckpointTensor<TensorDType>, bytes: Uint8Array): Float32Array {
  if (tensor.dtype === 'q8_0') return dequantizeQ8_0(bytes, elementCount(tensor));
  if (tensor.dtype === 'f16') return f16ToF32(halfWords(bytes));
  if (tensor.dtype === 'bf16') return bf16ToF32(halfWords(bytes));
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
}

/** Throws naming the tensor when a value (for q8_0: a block's scale) is NaN or infinite. */
function checkFinite(tensor: CheckpointTensor<TensorDType>, bytes: Uint8Array): void {
  if (tensor.dtype === 'q8_0') {
    const scales = bytes.subarray(q8_0ScalesOffset(elementCount(tensor)));
    const bad = firstNonFinite('f16', scales);
    if (bad >= 0) {
      throw new ModelError(
        `tensor ${tensor.name} in ${tensor.source}: the scale of q8_0 block ${bad} is ${f16ToF32(halfWords(scales))[bad]}; a weight must be finite`,
      );
    }
    return;
  }
  const bad = firstNonFinite(tensor.dtype, bytes);
  if (bad >= 0) {
    const value = asFloat32(tensor, bytes)[bad];
    throw new ModelError(
      `tensor ${tensor.name} in ${tensor.source} holds ${value} at element ${bad}; a weight must be finite`,
    );
  }
}

/**
 * Reads, checks and uploads one tensor. The common cases avoid an f32 copy of the tensor (which
 * would double peak memory): f32, f16 and q8_0 go up as they are, bf16 is narrowed word by word to
 * f16.
 */
async function upload(tensor: CheckpointTensor<TensorDType>, backend: Backend, dtype: WeightDType): Promise<Tensor> {
  const bytes = await tensor.read();
  if (bytes.byteLength !== tensor.byteLength) {
    throw new ModelError(
      `tensor ${tensor.name} in ${tensor.source}: read ${bytes.byteLength} bytes, expected ${tensor.byteLength}`,
    );
  }
  checkFinite(tensor, bytes);
  if (dtype === 'q8_0' && (tensor.shape.at(-1) ?? 0) % 32 !== 0) {
    throw new ModelError(
      `tensor ${tensor.name}: q8_0 storage needs rows whose length is a multiple of 32, got ${fmt(tensor.shape)}`,
    );
  }
  if (dtype === tensor.dtype && (dtype !== 'f16' || bytes.byteLength % 4 === 0)) {
    return fromBytes(backend, bytes, tensor.shape, dtype);
  }
  if (dtype === 'f16' && tensor.dtype === 'bf16') {
    const narrowed = bf16ToF16(halfWords(bytes));
    if (narrowed.byteLength % 4 === 0) return fromBytes(backend, new Uint8Array(narrowed.buffer), tensor.shape, 'f16');
  }
  return fromArray(backend, asFloat32(tensor, bytes), tensor.shape, dtype);
}

/**
 * Streams a checkpoint to the device one tensor at a time (peak host memory: about one tensor),
 * after checking names and shapes against the model's parameters.
 */
export async function loadWeights(
  reader: CheckpointReader<TensorDType>,
  args: ModelArgs,
  backend: Backend,
  options: { storage?: WeightStorage; onProgress?: (progress: LoadProgress) => void } = {},
): Promise<LlamaWeights> {
  const tensors = checkTensors(reader, args);
  const storage = options.storage ?? 'auto';
  const totalBytes = reader.tensors.reduce((sum, t) => sum + t.byteLength, 0);
  let loadedBytes = 0;
  const uploaded: Tensor[] = [];
  const load = async (name: string): Promise<Tensor> => {
    const tensor = tensors.get(name) as CheckpointTensor<TensorDType>;
    const result = await upload(tensor, backend, storedDType(name, tensor.dtype, storage));
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
