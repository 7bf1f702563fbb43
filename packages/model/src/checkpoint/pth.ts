/**
 * Reads Meta's PyTorch checkpoints (`consolidated.00.pth`, ...): the zip archive `torch.save` writes,
 * with a pickled state dict (read by the restricted unpickler: no code from the file ever runs) and one
 * raw storage per tensor. Nothing is loaded up front but the pickle: each tensor's `read()` reads just
 * its bytes from the file, so a 16 GB checkpoint streams one tensor at a time.
 *
 * Several files are the model-parallel shards Meta ships for large models; they are merged back into
 * whole tensors the way fairscale split them.
 */

import type { FileHandle } from 'node:fs/promises';
import yauzl from 'yauzl';
import { ModelError } from '../errors.js';
import { type PickledTensor, unpickleStateDict } from './pickle.js';
import { openRegularFile } from './regular-file.js';
import { type CheckpointReader, type CheckpointTensor, dtypeBytes } from './types.js';

/** Tensors some Meta checkpoints carry that the model recomputes (RoPE frequencies). */
const IGNORED_TENSORS: ReadonlySet<string> = new Set(['rope.freqs']);

/** A pickle larger than this is not a state dict's (Llama 3 405B's is well under 1 MiB). */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

/** One read call takes at most 2 GiB; bigger tensors are read in pieces. */
const MAX_READ = 1 << 30;

/**
 * Opens one checkpoint file, or the model-parallel shards of one checkpoint in rank order
 * (`consolidated.00.pth`, `consolidated.01.pth`, ..., as Meta's `sorted(glob('*.pth'))`).
 */
export async function openPthCheckpoint(paths: string[]): Promise<CheckpointReader> {
  if (paths.length === 0) {
    throw new ModelError('openPthCheckpoint: no files given, expected consolidated.00.pth (and its other shards)');
  }
  const shards: CheckpointReader[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(shards.map((shard) => shard.close()));
  };
  try {
    for (const path of paths) shards.push(await openPthFile(path));
    const [first] = shards;
    if (first && shards.length === 1) return first;
    return { tensors: mergeModelParallelShards(shards, paths), close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// One file.

async function openPthFile(path: string): Promise<CheckpointReader> {
  const file = await openRegularFile(path, 'checkpoint');
  try {
    const tensors = await describeTensors(path, file);
    let closed = false;
    const reader: CheckpointReader = {
      tensors: tensors.map(({ name, dtype, shape, byteLength, position }) => ({
        name,
        dtype,
        shape,
        byteLength,
        source: path,
        read: () => {
          if (closed) return Promise.reject(new ModelError(`${path}: tensor ${name} is read after close()`));
          return readRange(file, position, byteLength, path, name);
        },
      })),
      close: async () => {
        if (closed) return;
        closed = true;
        await file.close();
      },
    };
    return reader;
  } catch (error) {
    await file.close();
    throw error;
  }
}

interface LocatedTensor {
  name: string;
  dtype: CheckpointTensor['dtype'];
  shape: number[];
  byteLength: number;
  /** Where the tensor's first byte is in the file. */
  position: number;
}

/** Reads the archive's directory and pickle, and finds where each tensor's bytes are in the file. */
async function describeTensors(path: string, file: FileHandle): Promise<LocatedTensor[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromFdPromise(file.fd, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
  } catch (error) {
    throw new ModelError(
      `${path}: not a readable PyTorch checkpoint: expected the zip archive torch.save writes ` +
        `(the file may be truncated, or saved in torch's legacy non-zip format): ${messageOf(error)}`,
    );
  }
  const entries = new Map<string, yauzl.Entry>();
  try {
    for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
  } catch (error) {
    throw new ModelError(`${path}: the zip directory is corrupt: ${messageOf(error)}`);
  }

  const headers = new LocalHeaders(zip, path);
  const pickleNames = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  const [pickleName] = pickleNames;
  if (pickleName === undefined || pickleNames.length > 1) {
    throw new ModelError(
      `${path}: expected one <name>/data.pkl in the archive (torch.save's layout), found ${pickleNames.length}`,
    );
  }
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const byteorderEntry = entries.get(`${prefix}byteorder`);
  // Archives from torch before 2.1 have no byteorder record; they are little-endian.
  if (byteorderEntry) {
    await headers.dataStart(byteorderEntry);
    const byteorder = new TextDecoder().decode(await readWholeEntry(zip, byteorderEntry, path, 64)).trim();
    if (byteorder !== 'little') {
      throw new ModelError(`${path}: ${prefix}byteorder is "${byteorder}", expected "little"`);
    }
  }
  const pickleEntry = entries.get(pickleName);
  if (!pickleEntry) throw new ModelError(`${path}: ${pickleName} vanished from the zip directory`);
  await headers.dataStart(pickleEntry);
  const pickled = unpickleStateDict(await readWholeEntry(zip, pickleEntry, path, MAX_PICKLE_BYTES), path);

  const dataStarts = new Map<string, number>();
  const located: LocatedTensor[] = [];
  for (const tensor of pickled) {
    if (IGNORED_TENSORS.has(tensor.name)) continue;
    const entryName = `${prefix}data/${tensor.storageKey}`;
    const entry = entries.get(entryName);
    if (!entry) {
      throw new ModelError(`${path}: tensor ${tensor.name}'s storage ${entryName} is missing from the archive`);
    }
    let dataStart = dataStarts.get(entryName);
    if (dataStart === undefined) {
      dataStart = await storageDataStart(headers, entry, tensor, path);
      dataStarts.set(entryName, dataStart);
    }
    const elementBytes = dtypeBytes(tensor.dtype);
    located.push({
      name: tensor.name,
      dtype: tensor.dtype,
      shape: tensor.shape,
      byteLength: elementCount(tensor.shape) * elementBytes,
      position: dataStart + tensor.storageOffset * elementBytes,
    });
  }
  return located;
}

/** Checks a storage entry can be read in place (stored, as long as the storage) and returns its data's offset. */
async function storageDataStart(
  headers: LocalHeaders,
  entry: yauzl.Entry,
  tensor: PickledTensor,
  path: string,
): Promise<number> {
  if (entry.compressionMethod !== 0 || entry.isEncrypted()) {
    throw new ModelError(
      `${path}: tensor ${tensor.name}'s storage ${entry.fileName} is compressed (method ${entry.compressionMethod}), ` +
        'expected it STORED as torch.save writes it (re-save the checkpoint with torch.save)',
    );
  }
  const storageBytes = tensor.storageNumel * dtypeBytes(tensor.dtype);
  if (entry.uncompressedSize < storageBytes) {
    throw new ModelError(
      `${path}: tensor ${tensor.name}'s storage ${entry.fileName} holds ${entry.uncompressedSize} bytes, expected ` +
        `${storageBytes} (${tensor.storageNumel} ${tensor.dtype} elements): the checkpoint is truncated or corrupt`,
    );
  }
  return headers.dataStart(entry, `tensor ${tensor.name}'s storage `);
}

/**
 * Each entry's local header, checked against the central directory as Python's zipfile checks it
 * (and more): the same name, compression method and, where the local header gives them, sizes; and
 * no two entries' bytes overlapping. A crafted archive whose local header disagrees would otherwise
 * have its storages read from other bytes than the directory says, silently.
 */
class LocalHeaders {
  /** [start of local header, end of data) of each entry checked so far. */
  private readonly ranges: { start: number; end: number; name: string }[] = [];
  private readonly starts = new Map<yauzl.Entry, number>();

  constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly path: string,
  ) {}

  /** Where `entry`'s data starts in the file, once its local header is checked. */
  async dataStart(entry: yauzl.Entry, what = ''): Promise<number> {
    const known = this.starts.get(entry);
    if (known !== undefined) return known;
    const where = `${this.path}: ${what}${entry.fileName}`;
    let local: yauzl.LocalFileHeader;
    try {
      // yauzl checks here that the entry's data lies within the file.
      local = await this.zip.readLocalFileHeaderPromise(entry);
    } catch (error) {
      throw new ModelError(`${where}: cannot locate it (the file is truncated or corrupt): ${messageOf(error)}`);
    }
    const refuse = (what: string, inLocal: unknown, inCentral: unknown) =>
      new ModelError(
        `${where}: the zip entry's local header gives ${what} ${JSON.stringify(inLocal)}, its central directory ` +
          `${JSON.stringify(inCentral)}; the archive is corrupt or crafted (refused, as Python's zipfile refuses it)`,
      );
    const localName = Buffer.from(local.fileName).toString('utf8');
    if (!Buffer.from(local.fileName).equals(Buffer.from(entry.fileNameRaw))) {
      throw refuse('the name', localName, entry.fileName);
    }
    if (local.compressionMethod !== entry.compressionMethod) {
      throw refuse('compression method', local.compressionMethod, entry.compressionMethod);
    }
    // Bit 3: the sizes follow the data in a descriptor (torch writes so); 0xffffffff: in the zip64 extra field.
    if ((local.generalPurposeBitFlag & 0x8) === 0) {
      for (const [what, inLocal, inCentral] of [
        ['compressed size', local.compressedSize, entry.compressedSize],
        ['uncompressed size', local.uncompressedSize, entry.uncompressedSize],
      ] as const) {
        if (inLocal !== 0xffffffff && inLocal !== inCentral) throw refuse(what, inLocal, inCentral);
      }
    }
    const range = {
      start: entry.relativeOffsetOfLocalHeader,
      end: local.fileDataStart + entry.compressedSize,
      name: entry.fileName,
    };
    const overlap = this.ranges.find((other) => range.start < other.end && other.start < range.end);
    if (overlap) {
      throw new ModelError(
        `${where}: the zip entry's bytes ${range.start}..${range.end} overlap those of ${overlap.name} ` +
          `(${overlap.start}..${overlap.end}); the archive is corrupt or crafted (refused, as Python's zipfile refuses it)`,
      );
    }
    this.ranges.push(range);
    this.starts.set(entry, local.fileDataStart);
    return local.fileDataStart;
  }
}

/** A small entry's whole content (decompressed if need be: only storages must be STORED). */
async function readWholeEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  path: string,
  limit: number,
): Promise<Uint8Array> {
  if (entry.uncompressedSize > limit) {
    throw new ModelError(`${path}: ${entry.fileName} is ${entry.uncompressedSize} bytes, expected at most ${limit}`);
  }
  try {
    const stream = await zip.openReadStreamPromise(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return new Uint8Array(Buffer.concat(chunks));
  } catch (error) {
    throw new ModelError(
      `${path}: cannot read ${entry.fileName} (the file is truncated or corrupt): ${messageOf(error)}`,
    );
  }
}

async function readRange(
  file: FileHandle,
  position: number,
  length: number,
  path: string,
  name: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await file.read(out, done, Math.min(length - done, MAX_READ), position + done));
    } catch (error) {
      throw new ModelError(`${path}: cannot read tensor ${name}: ${messageOf(error)}`);
    }
    if (bytesRead === 0) {
      throw new ModelError(
        `${path}: tensor ${name} needs bytes ${position} to ${position + length}, but the file ends at ` +
          `${position + done}: the checkpoint is truncated (or changed since it was opened)`,
      );
    }
    done += bytesRead;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Model-parallel shards.

/**
 * How fairscale splits a Llama tensor across model-parallel ranks: column-parallel layers
 * (wq, wk, wv, w1, w3, output) on dim 0, row-parallel layers (wo, w2) and the parallel embedding on
 * dim 1, norms replicated on every rank. Undefined for a name Llama does not have.
 */
export function modelParallelSplit(name: string): 0 | 1 | 'replicated' | undefined {
  if (/^(output|layers\.\d+\.(attention\.w[qkv]|feed_forward\.w[13]))\.weight$/.test(name)) return 0;
  if (/^(tok_embeddings|layers\.\d+\.(attention\.wo|feed_forward\.w2))\.weight$/.test(name)) return 1;
  if (/^(norm|layers\.\d+\.(attention_norm|ffn_norm))\.weight$/.test(name)) return 'replicated';
  return undefined;
}

function mergeModelParallelShards(shards: CheckpointReader[], paths: string[]): CheckpointTensor[] {
  const byName = shards.map((shard) => new Map(shard.tensors.map((tensor) => [tensor.name, tensor])));
  const [first] = shards;
  if (!first) return [];
  shards.forEach((shard, index) => {
    for (const tensor of shard.tensors) {
      const missingFrom = byName.findIndex((names) => !names.has(tensor.name));
      if (missingFrom >= 0) {
        throw new ModelError(
          `${paths[missingFrom]}: tensor ${tensor.name} is missing from this model-parallel shard ` +
            `(${paths[index]} has it; every shard must hold the same tensors)`,
        );
      }
    }
  });
  return first.tensors.map((tensor) => {
    const pieces = byName.map((names) => names.get(tensor.name)).filter((piece) => piece !== undefined);
    return mergeTensor(tensor.name, pieces, paths);
  });
}

function mergeTensor(name: string, pieces: CheckpointTensor[], paths: string[]): CheckpointTensor {
  const split = modelParallelSplit(name);
  const [first] = pieces;
  if (split === undefined || !first) {
    throw new ModelError(
      `${paths.join(', ')}: tensor ${name} is not a Llama tensor, so how its model-parallel shards join is unknown`,
    );
  }
  const source = paths.join(', ');
  pieces.forEach((piece, index) => {
    const sameOutside = piece.shape.every((size, dim) => dim === split || size === first.shape[dim]);
    if (piece.dtype !== first.dtype || piece.shape.length !== first.shape.length || !sameOutside) {
      const expected = split === 'replicated' ? 'the same shape' : `the same sizes except along dim ${split}`;
      throw new ModelError(
        `${paths[index]}: tensor ${name} is ${piece.dtype} [${piece.shape.join(', ')}] here but ${first.dtype} ` +
          `[${first.shape.join(', ')}] in ${paths[0]}; model-parallel shards must have ${expected}`,
      );
    }
    if (split !== 'replicated' && piece.shape.length <= split) {
      throw new ModelError(`${paths[index]}: tensor ${name} has shape [${piece.shape.join(', ')}], expected a matrix`);
    }
  });

  if (split === 'replicated') {
    return {
      ...first,
      source,
      read: async () => {
        const copies = await Promise.all(pieces.map((piece) => piece.read()));
        const [reference] = copies;
        copies.forEach((copy, index) => {
          if (reference && !Buffer.from(copy).equals(Buffer.from(reference))) {
            throw new ModelError(
              `${paths[index]}: tensor ${name} differs from its copy in ${paths[0]}; a replicated tensor must be ` +
                'equal in every model-parallel shard',
            );
          }
        });
        return reference ?? new Uint8Array(0);
      },
    };
  }

  const shape = [...first.shape];
  shape[split] = pieces.reduce((sum, piece) => sum + (piece.shape[split] ?? 0), 0);
  const elementBytes = dtypeBytes(first.dtype);
  return {
    name,
    dtype: first.dtype,
    shape,
    byteLength: elementCount(shape) * elementBytes,
    source,
    read: async () => {
      const parts = await Promise.all(pieces.map((piece) => piece.read()));
      // Joining along `split`: each of the `outer` slices is every piece's block for that slice, in rank order.
      const outer = elementCount(shape.slice(0, split));
      const blocks = pieces.map((piece) => elementCount(piece.shape.slice(split)) * elementBytes);
      const out = new Uint8Array(elementCount(shape) * elementBytes);
      let at = 0;
      for (let slice = 0; slice < outer; slice++) {
        parts.forEach((part, index) => {
          const block = blocks[index] ?? 0;
          out.set(part.subarray(slice * block, (slice + 1) * block), at);
          at += block;
        });
      }
      return out;
    },
  };
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
