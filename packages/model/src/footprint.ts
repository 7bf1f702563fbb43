/**
 * Does a model fit: what it takes on its device (weights at the chosen storage, KV cache, a decode
 * step's activations), computed from its sizes before anything is allocated, the most its backend
 * can hold, and the one check between them. Sizes come from files (`params.json`, `config.json`)
 * and flags, so an absurd one (n_layers 1e9, a context of 1e12) must be a one-line error naming the
 * field and the bytes it would need, not "Invalid typed array length" or a V8 heap abort half a
 * minute later; and a real model too big for the wasm backend's 4 GiB is told what would fit.
 */

import { totalmem } from 'node:os';
import { basename } from 'node:path';
import { type Backend, byteSize, formatBytes, WEIGHT_DTYPES } from '@llama-ts/kernels';
import type { ModelArgs } from './args.js';
import { HF_CONFIG_FILE } from './checkpoint/folder/layout.js';
import type { TensorDType } from './checkpoint/types.js';
import { ModelError } from './errors.js';
import { layerShapes, outerShapes } from './shapes.js';
import { storedDType, type WeightStorage } from './weight-storage.js';

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

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * What a model of `args` needs on the device with weights stored as `storage`. `checkpointDType`
 * gives a tensor's dtype in the checkpoint once it is open; before that, 'auto' counts f16 (the
 * least it stores). Without it no loop runs over the layers, so an absurd n_layers costs nothing.
 * The activations are a decode step's: a long prompt's prefill needs more, which the backend
 * reports when it runs out.
 */
export function modelFootprint(
  args: ModelArgs,
  storage: WeightStorage,
  checkpointDType?: (name: string) => TensorDType | undefined,
): ModelFootprint {
  const bytes = (name: string, shape: readonly number[]) =>
    byteSize(storedDType(name, checkpointDType?.(name), storage), elements(shape));
  return footprint(args, bytes, checkpointDType !== undefined);
}

/**
 * Bytes per element of the smallest storage a checkpoint's own dtype can have (q4_0's and q4_k's
 * 4.5 bits): with 'auto' storage and dtypes known, the lower bound counts it, since a GGUF file may
 * keep its matrices in any of them (counting f16 would refuse a Q4 or Q8_0 file that fits).
 */
const LEAST_BYTES_PER_ELEMENT = Math.min(...WEIGHT_DTYPES.map((dtype) => byteSize(dtype, 256) / 256));

/** A tensor's bytes in that lower bound: norms are f32 whatever the storage. */
const leastBytes = (name: string, shape: readonly number[]) =>
  name.endsWith('norm.weight') ? elements(shape) * F32 : elements(shape) * LEAST_BYTES_PER_ELEMENT;

/** The footprint from each tensor's bytes; `perLayer`: every layer's own names (a checkpoint may mix dtypes). */
function footprint(
  args: ModelArgs,
  bytes: (name: string, shape: readonly number[]) => number,
  perLayer: boolean,
): ModelFootprint {
  let weightBytes = 0;
  for (const [name, shape] of outerShapes(args)) weightBytes += bytes(name, shape);
  const layer = layerShapes(args);
  if (perLayer) {
    // Each layer's own dtypes: a checkpoint may mix them.
    for (let i = 0; i < args.nLayers; i++) {
      for (const [suffix, shape] of layer) weightBytes += bytes(`layers.${i}.${suffix}`, shape);
    }
  } else {
    for (const [suffix, shape] of layer) weightBytes += args.nLayers * bytes(suffix, shape);
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

/** A device whose memory is not known up front (WebGPU) is assumed to hold at most this much. */
const UNKNOWN_DEVICE_BYTES = 2 ** 40;

export interface MemoryLimit {
  bytes: number;
  /** What holds at most `bytes`, for messages: "the wasm backend", "this machine's memory". */
  what: string;
}

/**
 * The most bytes of tensors `backend` can hold: its own capacity where it has a fixed one (wasm:
 * wasm32's 4 GiB), else the machine's memory (the CPU backend's tensors live there), else for
 * WebGPU, whose device memory is not known up front, 1 TiB (more than any GPU has).
 */
export function memoryLimit(backend: Pick<Backend, 'kind' | 'capacityBytes'>): MemoryLimit {
  if (backend.capacityBytes !== undefined) return { bytes: backend.capacityBytes, what: `the ${backend.kind} backend` };
  if (backend.kind === 'webgpu') return { bytes: UNKNOWN_DEVICE_BYTES, what: 'a WebGPU device (no GPU has more)' };
  return { bytes: totalmem(), what: "this machine's memory" };
}

/** "but the wasm backend holds at most 4.00 GiB": how every size check ends its message. */
export function beyondLimit(limit: MemoryLimit): string {
  return `but ${limit.what} holds at most ${formatBytes(limit.bytes)}`;
}

export interface FitCheckOptions {
  /** The parameters' file (`params.json`, `config.json`), named first (default: "the model's parameters"). */
  source?: string;
  /** A tensor's dtype in the opened checkpoint; without it, 'auto' storage counts f16 (the least). */
  checkpointDType?: (name: string) => TensorDType | undefined;
}

/**
 * Throws a one-line ModelError when the model would not fit `backend`: its parameters' file, the
 * bytes by what holds them, the limit, the field that alone makes it too big (when one does), and
 * what would fit (q8_0 storage, a shorter context, the webgpu backend) where something would.
 */
export function checkModelFits(
  args: ModelArgs,
  storage: WeightStorage,
  backend: Pick<Backend, 'kind' | 'capacityBytes'>,
  options: FitCheckOptions = {},
): void {
  const limit = memoryLimit(backend);
  // The lower bound first: it loops over no layers, so the exact count below only runs on sizes
  // that could fit.
  const dtypesKnown = storage === 'auto' && options.checkpointDType !== undefined;
  const least = dtypesKnown ? footprint(args, leastBytes, false) : modelFootprint(args, storage);
  if (!(least.totalBytes <= limit.bytes)) {
    throw tooBig(
      args,
      storage,
      backend,
      limit,
      least,
      options.source,
      dtypesKnown ? 'at least 4.5 bits each' : undefined,
    );
  }
  if (storage !== 'auto' || !options.checkpointDType) return;
  const exact = modelFootprint(args, storage, options.checkpointDType);
  if (!(exact.totalBytes <= limit.bytes)) {
    throw tooBig(args, storage, backend, limit, exact, options.source, 'as stored');
  }
}

/** The names a model's sizes have in its parameters' file. */
function fieldNames(source: string | undefined) {
  return source !== undefined && basename(source) === HF_CONFIG_FILE
    ? { layers: 'num_hidden_layers', dim: 'hidden_size', ffn: 'intermediate_size', seqLen: '--max-seq-len' }
    : { layers: 'n_layers', dim: 'dim', ffn: 'ffn', seqLen: 'max_seq_len or --max-seq-len' };
}

function tooBig(
  args: ModelArgs,
  storage: WeightStorage,
  backend: Pick<Backend, 'kind' | 'capacityBytes'>,
  limit: MemoryLimit,
  need: ModelFootprint,
  source = "the model's parameters",
  /** How the weights are counted when storage is 'auto' (default: as f16, the least a folder stores). */
  autoStored = 'at least f16',
): ModelError {
  const { nLayers, dim, ffnHiddenDim, vocabSize, nKvHeads, headDim, maxBatchSize, maxSeqLen } = args;
  const names = fieldNames(source);
  const fmt = formatBytes;
  // q8_0, the smallest storage that keeps the model's quality (the 4-6-bit formats lose some): the
  // size the advice below can promise.
  const asQ8 = modelFootprint(args, 'q8_0');
  const leastWeights = asQ8.weightBytes;
  // A size that alone is too big, whatever the storage: named with its field.
  let culprit = '';
  if (!(leastWeights <= limit.bytes)) {
    const layers = nLayers * layerShapes(args).reduce((sum, [, shape]) => sum + elements(shape), 0);
    const outer = outerShapes(args).reduce((sum, [, shape]) => sum + elements(shape), 0);
    culprit =
      layers >= outer
        ? `; ${names.layers} ${nLayers} × ${names.dim} ${dim} (${names.ffn} ${ffnHiddenDim}) make`
        : `; vocab_size ${vocabSize} (with ${names.dim} ${dim}) makes`;
    culprit += ` ${fmt(leastWeights)} of weights even as q8_0`;
  } else if (!(need.kvCacheBytes <= limit.bytes)) {
    culprit =
      `; a KV cache of maxSeqLen ${maxSeqLen} (${names.seqLen}) × maxBatchSize ${maxBatchSize} (--max-batch-size) ` +
      `positions alone needs ${fmt(need.kvCacheBytes)} (${nLayers} layers, ${nKvHeads} kv heads of ${headDim})`;
  }
  const advice: string[] = [];
  if (storage !== 'q8_0' && asQ8.totalBytes <= limit.bytes) {
    advice.push('store the weights as q8_0 (--weight-storage q8_0)');
  }
  if (leastWeights <= limit.bytes && need.kvCacheBytes + need.activationBytes > limit.bytes / 4) {
    advice.push('use a smaller --max-seq-len or --max-batch-size');
  }
  if (backend.capacityBytes !== undefined && backend.kind !== 'webgpu') advice.push('use the webgpu backend');
  const stored = storage !== 'auto' ? storage : autoStored;
  return new ModelError(
    `${source}: the model needs ${fmt(need.totalBytes)} (weights ${fmt(need.weightBytes)} ${stored}, KV cache ` +
      `${fmt(need.kvCacheBytes)} for ${maxBatchSize} × ${maxSeqLen} positions, activations ` +
      `${fmt(need.activationBytes)}) ${beyondLimit(limit)}${culprit}${advice.length > 0 ? `; ${advice.join(', or ')}` : ''}`,
  );
}
