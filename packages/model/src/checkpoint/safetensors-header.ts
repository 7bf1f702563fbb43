import type { FileHandle } from 'node:fs/promises';
import { ModelError } from '../errors.js';
import { errorText, isNonNegativeInteger, isPlainObject } from './guards.js';
import { openRegularFile } from './regular-file.js';
import { type CheckpointDType, dtypeBytes } from './types.js';

/**
 * The safetensors file header, read and validated without the tensor data.
 *
 * Format: 8-byte little-endian u64 header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`, then the data; offsets
 * are relative to the first byte after the header.
 */

/** Real headers are well under 1 MB; anything bigger means a corrupt length field. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const SAFETENSORS_DTYPES: Readonly<Record<string, CheckpointDType>> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };

/** One tensor as the header describes it; `dataStart`/`dataEnd` are absolute positions in the file. */
export interface SafetensorsEntry {
  name: string;
  dtype: CheckpointDType;
  shape: number[];
  dataStart: number;
  dataEnd: number;
}

export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  /** In file order (by data offset). */
  entries: SafetensorsEntry[];
  /** The optional `__metadata__` map (for example `{ format: 'pt' }`). */
  metadata: Record<string, string>;
}

/** Reads and validates one safetensors file's header (without the tensor data). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await openRegularFile(path, 'safetensors file');
  try {
    return await readHeaderFrom(handle, path);
  } finally {
    await handle.close();
  }
}

/** Reads and validates the header of a file already open. */
export async function readHeaderFrom(handle: FileHandle, path: string): Promise<SafetensorsHeader> {
  const fileSize = (await handle.stat()).size;
  if (fileSize < 8) {
    throw new ModelError(`${path}: ${fileSize} bytes, too short for a safetensors file (8-byte header length first)`);
  }
  const lengthBytes = Buffer.alloc(8);
  await handle.read(lengthBytes, 0, 8, 0);
  const headerLength = lengthBytes.readBigUInt64LE(0);
  if (headerLength > BigInt(MAX_HEADER_BYTES) || headerLength > BigInt(fileSize - 8)) {
    throw new ModelError(
      `${path}: header length ${headerLength} is not plausible: expected at most ${Math.min(MAX_HEADER_BYTES, fileSize - 8)} ` +
        `bytes (file size ${fileSize}); not a safetensors file, or truncated`,
    );
  }
  const headerBytes = Buffer.alloc(Number(headerLength));
  await handle.read(headerBytes, 0, headerBytes.length, 8);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new ModelError(`${path}: the safetensors header is not valid UTF-8 JSON (${errorText(error)})`);
  }
  return parseHeaderJson(json, path, fileSize, 8 + headerBytes.length);
}

function parseHeaderJson(json: unknown, path: string, fileSize: number, dataBase: number): SafetensorsHeader {
  if (!isPlainObject(json)) throw new ModelError(`${path}: the safetensors header must be a JSON object`);
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value, path);
    } else {
      entries.push(parseEntry(name, value, path, fileSize, dataBase));
    }
  }
  entries.sort((a, b) => a.dataStart - b.dataStart || a.dataEnd - b.dataEnd);
  checkNoOverlaps(entries, path);
  return { path, fileSize, entries, metadata };
}

function parseMetadata(value: unknown, path: string): Record<string, string> {
  if (!isPlainObject(value)) throw new ModelError(`${path}: "__metadata__" must be an object of strings`);
  const metadata: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new ModelError(`${path}: "__metadata__"."${key}" must be a string, got ${typeof item}`);
    }
    metadata[key] = item;
  }
  return metadata;
}

function parseEntry(name: string, value: unknown, path: string, fileSize: number, dataBase: number): SafetensorsEntry {
  const where = `${path}: tensor "${name}"`;
  if (!isPlainObject(value)) throw new ModelError(`${where}: expected { dtype, shape, data_offsets }`);

  const storedDType = value.dtype;
  const dtype =
    typeof storedDType === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, storedDType)
      ? SAFETENSORS_DTYPES[storedDType]
      : undefined;
  if (dtype === undefined) {
    throw new ModelError(
      `${where}: dtype ${JSON.stringify(storedDType)} is not supported; expected one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`,
    );
  }

  const shape = value.shape;
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw new ModelError(`${where}: shape ${JSON.stringify(shape)} must be an array of non-negative integers`);
  }

  const offsets = value.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw new ModelError(
      `${where}: data_offsets ${JSON.stringify(offsets)} must be [begin, end], non-negative integers`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const expectedBytes = shape.reduce((product: number, size: number) => product * size, 1) * dtypeBytes(dtype);
  if (!Number.isSafeInteger(expectedBytes) || end < begin || end - begin !== expectedBytes) {
    throw new ModelError(
      `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape [${shape.join(', ')}] of ${storedDType} needs ${expectedBytes}`,
    );
  }
  if (dataBase + end > fileSize) {
    throw new ModelError(
      `${where}: data ends at byte ${dataBase + end}, past the end of the file (${fileSize} bytes); the file is truncated or the header is wrong`,
    );
  }
  return { name, dtype, shape: shape as number[], dataStart: dataBase + begin, dataEnd: dataBase + end };
}

/** `entries` sorted by start; zero-length tensors occupy no bytes and overlap nothing. */
function checkNoOverlaps(entries: SafetensorsEntry[], path: string): void {
  let previous: SafetensorsEntry | undefined;
  for (const entry of entries) {
    if (entry.dataEnd === entry.dataStart) continue;
    if (previous && entry.dataStart < previous.dataEnd) {
      throw new ModelError(`${path}: tensors "${previous.name}" and "${entry.name}" overlap in the data section`);
    }
    previous = entry;
  }
}
