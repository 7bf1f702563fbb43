import { type Backend, byteSize } from '@llama-ts/kernels';
import type { ModelArgs } from './args.js';
import type { TensorDType } from './checkpoint/types.js';
import { ModelError } from './errors.js';
import { expectedShapes, storedDType, type WeightStorage } from './weights.js';

/** Bytes a model takes on its device, by what holds them. */
export interface ModelFootprint {
  /** The weights at the chosen storage. */
  weightBytes: number;
  /** Keys and values of every layer: maxBatchSize × maxSeqLen positions, f32. */
  kvCacheBytes: number;
  /** A decode step's activations (one token per cache slot) and the RoPE table. */
  activationBytes: number;
  totalBytes: number;
}

const F32 = 4;

/**
 * What a model of `args` needs on the device with weights stored as `storage`. `checkpointDType`
 * gives a tensor's dtype in the checkpoint once it is open; before that, 'auto' counts f16 (the
 * least it stores). The activations are a decode step's: a long prompt's prefill needs more, which
 * the backend reports when it runs out.
 */
export function modelFootprint(
  args: ModelArgs,
  storage: WeightStorage,
  checkpointDType?: (name: string) => TensorDType | undefined,
): ModelFootprint {
  let weightBytes = 0;
  for (const [name, shape] of expectedShapes(args)) {
    const elements = shape.reduce((a, b) => a * b, 1);
    weightBytes += byteSize(storedDType(name, checkpointDType?.(name), storage), elements);
  }
  const { dim, nLayers, nHeads, nKvHeads, headDim, ffnHiddenDim, vocabSize, maxSeqLen, maxBatchSize } = args;
  const kvCacheBytes = 2 * nLayers * maxBatchSize * maxSeqLen * nKvHeads * headDim * F32;
  // Live at once per token: the residual stream and a normed copy (3 × dim), q, k, v before and
  // after RoPE, the attended values, one attention score per cached position, the gated
  // feed-forward and the logits.
  const perToken =
    3 * dim + 2 * (nHeads + 2 * nKvHeads) * headDim + nHeads * headDim + nHeads * maxSeqLen + ffnHiddenDim + vocabSize;
  const ropeTableBytes = maxSeqLen * headDim * F32;
  const activationBytes = maxBatchSize * perToken * F32 + ropeTableBytes;
  return { weightBytes, kvCacheBytes, activationBytes, totalBytes: weightBytes + kvCacheBytes + activationBytes };
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/**
 * Throws a one-line ModelError when the model would not fit the backend's capacity (the wasm
 * backend's 4 GiB wasm32 memory), naming its size, the limit and what to do; does nothing on a
 * backend without a fixed limit.
 */
export function checkModelFits(
  args: ModelArgs,
  storage: WeightStorage,
  backend: Backend,
  checkpointDType?: (name: string) => TensorDType | undefined,
): void {
  const capacity = backend.capacityBytes;
  if (capacity === undefined) return;
  const need = modelFootprint(args, storage, checkpointDType);
  if (need.totalBytes <= capacity) return;
  const advice: string[] = [];
  if (storage !== 'q8_0' && modelFootprint(args, 'q8_0').totalBytes <= capacity) {
    advice.push('store the weights as q8_0 (--weight-storage q8_0)');
  }
  if (need.kvCacheBytes > capacity / 4) advice.push('use a smaller --max-seq-len or --max-batch-size');
  advice.push('use the webgpu backend');
  const stored = storage === 'auto' && !checkpointDType ? 'at least f16' : storage === 'auto' ? 'as stored' : storage;
  throw new ModelError(
    `the model needs ${gib(need.totalBytes)} (weights ${gib(need.weightBytes)} ${stored}, KV cache ` +
      `${gib(need.kvCacheBytes)} for ${args.maxBatchSize} × ${args.maxSeqLen} positions, activations ` +
      `${gib(need.activationBytes)}) but the ${backend.kind} backend holds at most ${gib(capacity)}; ` +
      advice.join(', or '),
  );
}
