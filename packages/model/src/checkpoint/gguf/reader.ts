import { type FileHandle, open } from 'node:fs/promises';
import { ModelError } from '../../errors.js';
import { errorText } from '../guards.js';
import {
  GGML_TYPES,
  type GGMLType,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GGUF_SCALAR_BYTES,
  GGUF_VALUE_TYPE_NAMES,
  GGUF_VERSIONS,
  GGUFValueType,
} from './format.js';

/**
 * Reads a GGUF file's header (metadata and tensor infos) without its tensor data, through a small
 * window over the file: a Llama 3 header (its vocabulary and merges) is several megabytes, the data
 * after it gigabytes, and neither is held twice. Every error names the file and what was being read.
 */

/** A metadata value: u64/i64 beyond 2^53 stay bigint; arrays hold their elements' values. */
export type GGUFValue = number | bigint | boolean | string | GGUFValue[];

export interface GGUFMetadataEntry {
  key: string;
  type: GGUFValueType;
  /** For arrays: the elements' type. */
  elementType?: GGUFValueType;
  value: GGUFValue;
}

export interface GGUFTensorInfo {
  name: string;
  /** Row-major (the stored ne reversed): [rows, columns] for a matrix. */
  shape: number[];
  type: GGMLType;
  elements: number;
  byteLength: number;
  /** Absolute position of the data in the file. */
  start: number;
}

export interface GGUFHeader {
  path: string;
  version: number;
  fileSize: number;
  alignment: number;
  /** Absolute position of the data section. */
  dataOffset: number;
  metadata: ReadonlyMap<string, GGUFMetadataEntry>;
  /** In file order. */
  tensors: GGUFTensorInfo[];
}

const WINDOW_BYTES = 1 << 20;
/** No real key or string comes near this; a bigger length is a corrupt file. */
const MAX_STRING_BYTES = 1 << 28;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Opens `path` and reads its GGUF header; the caller closes the handle. */
export async function readGGUFHeader(path: string): Promise<GGUFHeader> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new ModelError(`${path}: cannot open (${errorText(error)})`);
  }
  try {
    return await readGGUFHeaderFrom(handle, path);
  } finally {
    await handle.close();
  }
}

/** Reads the GGUF header of a file already open. */
export async function readGGUFHeaderFrom(handle: FileHandle, path: string): Promise<GGUFHeader> {
  const stats = await handle.stat();
  if (!stats.isFile()) throw new ModelError(`${path}: not a regular file`);
  const source = new ByteWindow(handle, path, stats.size);

  await source.need(4, 'the magic number');
  const magic = source.u32();
  if (magic !== GGUF_MAGIC) {
    throw new ModelError(`${path}: not a GGUF file (the first 4 bytes are not "GGUF")`);
  }
  await source.need(4, 'the version');
  const version = source.u32();
  if (!GGUF_VERSIONS.includes(version)) {
    throw new ModelError(`${path}: GGUF version ${version} is not supported; expected ${GGUF_VERSIONS.join(' or ')}`);
  }
  await source.need(16, 'the tensor and metadata counts');
  const tensorCount = source.count('the tensor count');
  const kvCount = source.count('the metadata count');

  const metadata = new Map<string, GGUFMetadataEntry>();
  for (let i = 0; i < kvCount; i++) {
    const key = await source.string(`metadata key #${i}`);
    if (metadata.has(key)) throw new ModelError(`${path}: metadata key "${key}" appears twice`);
    await source.need(4, `the type of metadata "${key}"`);
    const type = source.u32() as GGUFValueType;
    metadata.set(key, await readEntry(source, key, type));
  }

  const alignment = readAlignment(metadata, path);
  const infos: { name: string; ne: number[]; typeId: number; offset: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = await source.string(`the name of tensor #${i}`);
    const where = `tensor "${name}"`;
    await source.need(4, `${where}: n_dims`);
    const nDims = source.u32();
    if (nDims < 1 || nDims > GGUF_MAX_DIMS) {
      throw new ModelError(`${path}: ${where}: n_dims is ${nDims}; expected 1 to ${GGUF_MAX_DIMS}`);
    }
    await source.need(8 * nDims + 12, `${where}: its dimensions, type and offset`);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(source.u64Number(`${where}: ne[${d}]`));
    const typeId = source.u32();
    const offset = source.u64Number(`${where}: offset`);
    infos.push({ name, ne, typeId, offset });
  }
  const dataOffset = Math.ceil(source.position / alignment) * alignment;
  const tensors = infos.map((info) => tensorInfo(info, path, alignment, dataOffset, stats.size));
  checkUniqueAndDisjoint(tensors, path);
  return { path, version, fileSize: stats.size, alignment, dataOffset, metadata, tensors };
}

async function readEntry(source: ByteWindow, key: string, type: GGUFValueType): Promise<GGUFMetadataEntry> {
  if (type !== GGUFValueType.ARRAY) return { key, type, value: await readValue(source, type, `metadata "${key}"`) };
  await source.need(12, `metadata "${key}": the array's type and length`);
  const elementType = source.u32() as GGUFValueType;
  const count = source.count(`metadata "${key}": the array's length`);
  if (!(elementType in GGUF_VALUE_TYPE_NAMES)) {
    throw new ModelError(`${source.path}: metadata "${key}": unknown array element type ${elementType}`);
  }
  const values: GGUFValue[] = new Array(count);
  for (let i = 0; i < count; i++) {
    // Synchronously while the window holds the element: a vocabulary is hundreds of thousands of them.
    values[i] =
      source.valueIfBuffered(elementType, key, i) ?? (await readValue(source, elementType, `metadata "${key}"[${i}]`));
  }
  return { key, type, elementType, value: values };
}

async function readValue(source: ByteWindow, type: GGUFValueType, what: string): Promise<GGUFValue> {
  if (type === GGUFValueType.STRING) return source.string(what);
  if (type === GGUFValueType.ARRAY) {
    // Arrays of arrays are legal GGUF; nothing Llama needs uses them.
    const nested = await readEntry(source, what, type);
    return nested.value;
  }
  const size = GGUF_SCALAR_BYTES[type];
  if (size === undefined) throw new ModelError(`${source.path}: ${what}: unknown value type ${type}`);
  await source.need(size, what);
  return source.scalar(type);
}

function readAlignment(metadata: ReadonlyMap<string, GGUFMetadataEntry>, path: string): number {
  const entry = metadata.get('general.alignment');
  if (!entry) return GGUF_DEFAULT_ALIGNMENT;
  const value = entry.value;
  if (entry.type !== GGUFValueType.UINT32 || typeof value !== 'number' || value === 0 || (value & (value - 1)) !== 0) {
    throw new ModelError(
      `${path}: metadata "general.alignment" is ${String(value)} (${GGUF_VALUE_TYPE_NAMES[entry.type]}); expected a u32 power of two`,
    );
  }
  return value;
}

function tensorInfo(
  info: { name: string; ne: number[]; typeId: number; offset: number },
  path: string,
  alignment: number,
  dataOffset: number,
  fileSize: number,
): GGUFTensorInfo {
  const where = `${path}: tensor "${info.name}"`;
  const type = GGML_TYPES.get(info.typeId);
  if (!type) throw new ModelError(`${where}: unknown ggml type ${info.typeId}`);
  const elements = info.ne.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(elements)) throw new ModelError(`${where}: ${info.ne.join(' × ')} elements is too many`);
  if ((info.ne[0] as number) % type.blockElements !== 0) {
    throw new ModelError(
      `${where}: rows of ${info.ne[0]} elements are not whole ${type.name} blocks of ${type.blockElements}`,
    );
  }
  if (info.offset % alignment !== 0) {
    throw new ModelError(`${where}: offset ${info.offset} is not a multiple of the alignment ${alignment}`);
  }
  const byteLength = (elements / type.blockElements) * type.blockBytes;
  const start = dataOffset + info.offset;
  if (start + byteLength > fileSize) {
    throw new ModelError(
      `${where}: its ${byteLength} bytes at offset ${start} end past the end of the file (${fileSize} bytes); the file is truncated or its header is wrong`,
    );
  }
  return { name: info.name, shape: [...info.ne].reverse(), type, elements, byteLength, start };
}

function checkUniqueAndDisjoint(tensors: GGUFTensorInfo[], path: string): void {
  const names = new Set<string>();
  for (const tensor of tensors) {
    if (names.has(tensor.name)) throw new ModelError(`${path}: tensor "${tensor.name}" appears twice`);
    names.add(tensor.name);
  }
  const sorted = [...tensors].filter((t) => t.byteLength > 0).sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1] as GGUFTensorInfo;
    const current = sorted[i] as GGUFTensorInfo;
    if (current.start < previous.start + previous.byteLength) {
      throw new ModelError(`${path}: tensors "${previous.name}" and "${current.name}" overlap in the data section`);
    }
  }
}

/** A read-ahead window over an open file, with little-endian reads at a cursor. */
class ByteWindow {
  #buffer = Buffer.alloc(0);
  #bufferStart = 0;
  #position = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    private readonly fileSize: number,
  ) {}

  get position(): number {
    return this.#position;
  }

  /** Makes the next `bytes` bytes readable, or throws naming `what` when the file ends first. */
  async need(bytes: number, what: string): Promise<void> {
    const end = this.#position + bytes;
    if (end <= this.#bufferStart + this.#buffer.length) return;
    if (end > this.fileSize) {
      throw new ModelError(
        `${this.path}: truncated while reading ${what}: ${bytes} bytes needed at offset ${this.#position}, the file has ${this.fileSize}`,
      );
    }
    const length = Math.min(Math.max(bytes, WINDOW_BYTES), this.fileSize - this.#position);
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, this.#position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done < bytes) throw new ModelError(`${this.path}: the file ended while reading ${what} (it shrank?)`);
    this.#buffer = buffer.subarray(0, done);
    this.#bufferStart = this.#position;
  }

  #take(bytes: number): number {
    const at = this.#position - this.#bufferStart;
    this.#position += bytes;
    return at;
  }

  u32(): number {
    return this.#buffer.readUInt32LE(this.#take(4));
  }

  /** The next string or scalar of array `key` (element `index`) if the window holds it all, else undefined. */
  valueIfBuffered(type: GGUFValueType, key: string, index: number): GGUFValue | undefined {
    const left = this.#bufferStart + this.#buffer.length - this.#position;
    if (type === GGUFValueType.STRING) {
      if (left < 8) return undefined;
      const length = this.#buffer.readBigUInt64LE(this.#position - this.#bufferStart);
      if (length > BigInt(left - 8)) return undefined;
      this.#take(8);
      const at = this.#take(Number(length));
      try {
        return utf8.decode(this.#buffer.subarray(at, at + Number(length)));
      } catch {
        throw new ModelError(`${this.path}: metadata "${key}"[${index}] is not valid UTF-8`);
      }
    }
    const size = GGUF_SCALAR_BYTES[type];
    return size !== undefined && left >= size ? this.scalar(type) : undefined;
  }

  /** A u64 as a number, which every size and offset in a real file is. */
  u64Number(what: string): number {
    const value = this.#buffer.readBigUInt64LE(this.#take(8));
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ModelError(`${this.path}: ${what} is ${value}: too large`);
    return Number(value);
  }

  /** A u64 count of things that each take at least a byte, so it cannot exceed the file's size. */
  count(what: string): number {
    const value = this.u64Number(what);
    if (value > this.fileSize) {
      throw new ModelError(`${this.path}: ${what} is ${value}, more than the file's ${this.fileSize} bytes could hold`);
    }
    return value;
  }

  async string(what: string): Promise<string> {
    await this.need(8, `${what} (its length)`);
    const length = this.u64Number(`${what}: the string's length`);
    if (length > MAX_STRING_BYTES) throw new ModelError(`${this.path}: ${what}: a string of ${length} bytes`);
    await this.need(length, what);
    const at = this.#take(length);
    try {
      return utf8.decode(this.#buffer.subarray(at, at + length));
    } catch {
      throw new ModelError(`${this.path}: ${what} is not valid UTF-8`);
    }
  }

  scalar(type: GGUFValueType): number | bigint | boolean {
    const buffer = this.#buffer;
    switch (type) {
      case GGUFValueType.UINT8:
        return buffer.readUInt8(this.#take(1));
      case GGUFValueType.INT8:
        return buffer.readInt8(this.#take(1));
      case GGUFValueType.UINT16:
        return buffer.readUInt16LE(this.#take(2));
      case GGUFValueType.INT16:
        return buffer.readInt16LE(this.#take(2));
      case GGUFValueType.UINT32:
        return buffer.readUInt32LE(this.#take(4));
      case GGUFValueType.INT32:
        return buffer.readInt32LE(this.#take(4));
      case GGUFValueType.FLOAT32:
        return buffer.readFloatLE(this.#take(4));
      case GGUFValueType.BOOL:
        return buffer.readUInt8(this.#take(1)) !== 0;
      case GGUFValueType.UINT64:
        return safeNumber(buffer.readBigUInt64LE(this.#take(8)));
      case GGUFValueType.INT64:
        return safeNumber(buffer.readBigInt64LE(this.#take(8)));
      case GGUFValueType.FLOAT64:
        return buffer.readDoubleLE(this.#take(8));
      default:
        throw new ModelError(`${this.path}: value type ${type} is not a scalar`);
    }
  }
}

function safeNumber(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
