import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelError } from '../errors.js';
import { exists, SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from './folder/layout.js';
import { metaNameForHF } from './hf-names.js';
import { HF_ROPE_LAYOUT } from './hf-rows.js';
import { openRegularFile } from './regular-file.js';
import { readHeaderFrom, type SafetensorsEntry } from './safetensors-header.js';
import { checkShardMatchesIndex, planShardsFromIndex, type ShardPlan } from './safetensors-index.js';
import type { CheckpointReader, CheckpointTensor } from './types.js';

/**
 * Reader for Hugging Face safetensors checkpoints (single file or sharded with an index), mapping
 * transformers' tensor names to Meta's. Files are read by position, one tensor at a time: real
 * shards are ~5 GB and are never loaded whole.
 */

/** FileHandle.read takes at most 2³¹−1 bytes per call; a 70B embedding is larger, so read in chunks. */
const MAX_READ_CHUNK = 1 << 30;

export interface SafetensorsCheckpointTensor extends CheckpointTensor {
  /** The name stored in the file (transformers' name), for messages and debugging. */
  storedName: string;
}

export interface SafetensorsCheckpointReader extends CheckpointReader {
  tensors: SafetensorsCheckpointTensor[];
  /** Always 'half': q/k rows are kept in the Hugging Face layout (see HF_ROPE_LAYOUT). */
  ropeLayout: typeof HF_ROPE_LAYOUT;
}

export interface SafetensorsOpenOptions {
  /**
   * The config's `tie_word_embeddings` (Llama 3.2 1B/3B): when true and the checkpoint has no
   * `lm_head.weight`, `output.weight` reads the embedding's bytes.
   */
  tieWordEmbeddings?: boolean;
}

/**
 * Opens `<dir>/model.safetensors.index.json` (sharded) if present, else `<dir>/model.safetensors`.
 * Every header is validated up front; tensor data is read only by `read()`.
 */
export async function openSafetensorsCheckpoint(
  dir: string,
  options: SafetensorsOpenOptions = {},
): Promise<SafetensorsCheckpointReader> {
  const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
  const singlePath = join(dir, SAFETENSORS_FILE);
  let shards: ShardPlan[];
  if (await exists(indexPath)) {
    shards = await planShardsFromIndex(dir, indexPath);
  } else if (await exists(singlePath)) {
    shards = [{ path: singlePath }];
  } else {
    throw new ModelError(
      `${dir}: no Hugging Face checkpoint found: expected ${SAFETENSORS_INDEX_FILE} (sharded) or ${SAFETENSORS_FILE}`,
    );
  }

  const files = new OpenFiles();
  try {
    const tensors: SafetensorsCheckpointTensor[] = [];
    for (const shard of shards) {
      const handle = await files.open(shard.path);
      const header = await readHeaderFrom(handle, shard.path);
      if (shard.index) checkShardMatchesIndex(header, shard.index.names, shard.index.path);
      for (const entry of header.entries) {
        const metaName = metaNameForHF(entry.name, shard.path);
        if (metaName !== undefined) tensors.push(tensorFromEntry(entry, metaName, shard.path, handle, files));
      }
    }
    checkUniqueNames(tensors);
    addTiedOutput(tensors, options, dir);
    return { tensors, ropeLayout: HF_ROPE_LAYOUT, close: () => files.closeAll() };
  } catch (error) {
    await files.closeAll();
    throw error;
  }
}

function checkUniqueNames(tensors: SafetensorsCheckpointTensor[]): void {
  const seen = new Map<string, SafetensorsCheckpointTensor>();
  for (const tensor of tensors) {
    const earlier = seen.get(tensor.name);
    if (earlier) {
      throw new ModelError(
        `${tensor.source}: tensor "${tensor.storedName}" maps to ${tensor.name}, which "${earlier.storedName}" in ${earlier.source} also provides`,
      );
    }
    seen.set(tensor.name, tensor);
  }
}

/**
 * Tied checkpoints (Llama 3.2 1B/3B) store no lm_head; the output projection is the embedding. A
 * checkpoint with lm_head keeps its own even when tied: transformers saves identical bytes then.
 */
function addTiedOutput(tensors: SafetensorsCheckpointTensor[], options: SafetensorsOpenOptions, dir: string): void {
  const embedding = tensors.find((tensor) => tensor.name === 'tok_embeddings.weight');
  const hasOutput = tensors.some((tensor) => tensor.name === 'output.weight');
  if (!embedding || hasOutput) return;
  if (!options.tieWordEmbeddings) {
    throw new ModelError(
      `${dir}: the checkpoint has no lm_head.weight; if config.json says "tie_word_embeddings": true, ` +
        'open it with { tieWordEmbeddings: true } so output.weight reads the embedding',
    );
  }
  tensors.push({ ...embedding, name: 'output.weight', shape: [...embedding.shape], sameBytesAs: embedding.name });
}

function tensorFromEntry(
  entry: SafetensorsEntry,
  metaName: string,
  path: string,
  handle: FileHandle,
  files: OpenFiles,
): SafetensorsCheckpointTensor {
  return {
    name: metaName,
    storedName: entry.name,
    shape: [...entry.shape],
    dtype: entry.dtype,
    byteLength: entry.dataEnd - entry.dataStart,
    source: path,
    read: async () => {
      files.assertOpen(path, entry.name);
      return readExactly(handle, entry.dataStart, entry.dataEnd - entry.dataStart, path, entry.name);
    },
  };
}

/** Reads [position, position + length) or throws naming the file and tensor if the file is short. */
export async function readExactly(
  handle: FileHandle,
  position: number,
  length: number,
  path: string,
  tensorName: string,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const chunk = Math.min(length - done, MAX_READ_CHUNK);
    const { bytesRead } = await handle.read(bytes, done, chunk, position + done);
    if (bytesRead === 0) {
      throw new ModelError(
        `${path}: truncated while reading tensor "${tensorName}": expected ${length} bytes at offset ${position}, the file ended after ${done}`,
      );
    }
    done += bytesRead;
  }
  return bytes;
}

/** The reader's file handles, so close() releases them all and reads after close fail clearly. */
class OpenFiles {
  private readonly handles = new Map<string, FileHandle>();
  private closed = false;

  async open(path: string): Promise<FileHandle> {
    const handle = await openRegularFile(path, 'safetensors file');
    this.handles.set(path, handle);
    return handle;
  }

  assertOpen(path: string, tensorName: string): void {
    if (this.closed) throw new ModelError(`${path}: cannot read tensor "${tensorName}": the checkpoint was closed`);
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map((handle) => handle.close()));
  }
}
