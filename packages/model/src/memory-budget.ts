/**
 * What a model would allocate, computed from its sizes before anything is allocated, and the most a
 * backend can hold. Sizes come from files (`params.json`, `config.json`) and flags, so an absurd
 * one (n_layers 1e9, a context of 1e12) must be a one-line error naming the field and the bytes it
 * would need, not "Invalid typed array length" or a V8 heap abort half a minute later.
 */

import { totalmem } from 'node:os';
import type { Backend } from '@llama-ts/kernels';
import type { ModelArgs } from './args.js';
import { ModelError } from './errors.js';

/** A device whose memory is not known up front (WebGPU) is assumed to hold at most this much. */
const UNKNOWN_DEVICE_BYTES = 2 ** 40;

export interface MemoryLimit {
  bytes: number;
  /** What the limit is, for messages: "the wasm backend's capacity", "this machine's memory". */
  what: string;
}

/**
 * The most bytes of tensors `backend` can hold: its own capacity where it has a fixed one (wasm),
 * else the machine's memory (the CPU backend's tensors live there), else for WebGPU, whose device
 * memory is not known up front, 1 TiB (more than any GPU has).
 */
export function memoryLimit(backend: Pick<Backend, 'kind' | 'capacityBytes'>): MemoryLimit {
  if (backend.capacityBytes !== undefined) {
    return { bytes: backend.capacityBytes, what: `the ${backend.kind} backend's capacity` };
  }
  if (backend.kind === 'webgpu') {
    return { bytes: UNKNOWN_DEVICE_BYTES, what: '1 TiB (a WebGPU device holds no more)' };
  }
  return { bytes: totalmem(), what: "this machine's memory" };
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${bytes} bytes`;
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Elements of every weight of a model with these args (Meta's tensors; no Map of them is built). */
export function weightElements(args: ModelArgs): { layers: number; embeddings: number } {
  const { dim, nHeads, nKvHeads, headDim, ffnHiddenDim, vocabSize, nLayers } = args;
  const perLayer = 2 * dim + 2 * nHeads * headDim * dim + 2 * nKvHeads * headDim * dim + 3 * ffnHiddenDim * dim;
  return { layers: nLayers * perLayer, embeddings: 2 * vocabSize * dim + dim };
}

/** Bytes of the KV cache (f32 keys and values for every layer, slot and position) and the RoPE table. */
export function cacheBytes(args: ModelArgs): number {
  const kv = 2 * args.nLayers * args.maxBatchSize * args.maxSeqLen * args.nKvHeads * args.headDim * 4;
  return kv + args.maxSeqLen * args.headDim * 4;
}

/**
 * Throws a ModelError naming the size at fault when the weights (at `bytesPerWeight`) or the KV cache
 * of `args` would not fit `limit`. `source` names the parameters' file.
 */
export function checkModelFits(args: ModelArgs, bytesPerWeight: number, limit: MemoryLimit, source: string): void {
  const { layers, embeddings } = weightElements(args);
  const weights = (layers + embeddings) * bytesPerWeight;
  const cache = cacheBytes(args);
  const over = (bytes: number) => !(bytes <= limit.bytes);
  const beyond = `more than ${formatBytes(limit.bytes)}, ${limit.what}`;
  if (over(weights)) {
    const blame =
      layers >= embeddings
        ? `n_layers ${args.nLayers} × dim ${args.dim} (ffn ${args.ffnHiddenDim})`
        : `vocab_size ${args.vocabSize} (with dim ${args.dim})`;
    throw new ModelError(`${source}: ${blame} needs ${formatBytes(weights)} of weights, ${beyond}`);
  }
  if (over(weights + cache)) {
    throw new ModelError(
      `${source}: a KV cache of maxSeqLen ${args.maxSeqLen} (max_seq_len or --max-seq-len) × maxBatchSize ` +
        `${args.maxBatchSize} (--max-batch-size) positions needs ${formatBytes(cache)} (${args.nLayers} layers, ` +
        `${args.nKvHeads} kv heads of ${args.headDim}) beside ${formatBytes(weights)} of weights, ${beyond}`,
    );
  }
}
