/**
 * Writes a state dict the way `torch.save(state_dict, path)` does, so that PyTorch (and Meta's
 * `llama` code) loads what we save and our reader sees the same layout as a real checkpoint:
 * a zip archive, entries STORED, each entry's data aligned to 64 bytes with torch's "FB" padding
 * extra field, a protocol-2 pickle with the same opcodes and memo numbering Python's pickler emits.
 *
 * The zip is written by hand (a stored-only writer is small): the exact layout torch's miniz
 * writer produces (alignment, data descriptors, zip64 end records) is the point, and no zip library
 * lets us control it.
 */

import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';
import { ModelError } from '../errors.js';
import { contiguousStrides } from './pickle.js';
import { type CheckpointDType, dtypeBytes } from './types.js';

export interface PthTensorToWrite {
  name: string;
  shape: number[];
  dtype: CheckpointDType;
  /** Little-endian values, row-major: shape's element count times the dtype's size. */
  data: Uint8Array;
}

/** One tensor as the pickle refers to it: its bytes are the archive entry `data/<storageKey>`. */
export interface PickledTensorRef {
  name: string;
  shape: number[];
  dtype: CheckpointDType;
  storageKey: string;
}

export interface PthStorageRecord {
  key: string;
  data: Uint8Array;
}

/** Writes `tensors` (in this order) as `torch.save(OrderedDict(...), path)` would. */
export async function writePthCheckpoint(path: string, tensors: PthTensorToWrite[]): Promise<void> {
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (seen.has(tensor.name)) throw new ModelError(`${path}: tensor ${tensor.name} is given twice`);
    seen.add(tensor.name);
    const numel = tensor.shape.reduce((product, size) => product * size, 1);
    if (!tensor.shape.every((size) => Number.isSafeInteger(size) && size >= 0)) {
      throw new ModelError(
        `${path}: tensor ${tensor.name} has shape [${tensor.shape.join(', ')}], expected sizes >= 0`,
      );
    }
    const expected = numel * dtypeBytes(tensor.dtype);
    if (tensor.data.byteLength !== expected) {
      throw new ModelError(
        `${path}: tensor ${tensor.name} has ${tensor.data.byteLength} bytes of data, expected ${expected} ` +
          `(shape [${tensor.shape.join(', ')}], ${tensor.dtype})`,
      );
    }
  }
  // torch numbers storages in the order it meets them: one storage per tensor here.
  const refs = tensors.map((tensor, index) => ({ ...tensor, storageKey: String(index) }));
  const storages = refs.map((ref) => ({ key: ref.storageKey, data: ref.data }));
  await writePthArchive(path, pickleStateDict(refs), storages);
}

// ---------------------------------------------------------------------------------------------
// The pickle: what Python's pickle.Pickler(protocol=2) emits for torch's reduction of a state dict.

const STORAGE_CLASSES: Record<CheckpointDType, string> = {
  bf16: 'BFloat16Storage',
  f16: 'HalfStorage',
  f32: 'FloatStorage',
};

/** Python's pickler writes a dict's items in batches of this many (`Pickler._BATCHSIZE`). */
const PICKLE_BATCH_SIZE = 1000;

/** The `data.pkl` of `torch.save(OrderedDict(name → tensor))`, byte for byte as torch writes it. */
export function pickleStateDict(tensors: readonly PickledTensorRef[]): Uint8Array {
  const out = new PickleEmitter();
  out.byte(0x80, 2); // PROTO 2
  out.global('collections', 'OrderedDict');
  out.byte(0x29); // EMPTY_TUPLE
  out.byte(0x52); // REDUCE
  out.put();
  for (let start = 0; start < tensors.length; start += PICKLE_BATCH_SIZE) {
    const batch = tensors.slice(start, start + PICKLE_BATCH_SIZE);
    if (batch.length > 1) out.byte(0x28); // MARK
    for (const tensor of batch) {
      out.unicode(tensor.name);
      out.put();
      emitTensor(out, tensor);
    }
    out.byte(batch.length > 1 ? 0x75 : 0x73); // SETITEMS : SETITEM
  }
  out.byte(0x2e); // STOP
  return out.bytes();
}

/** `torch._utils._rebuild_tensor_v2((storage pid), offset, size, stride, False, OrderedDict())`. */
function emitTensor(out: PickleEmitter, tensor: PickledTensorRef): void {
  const numel = tensor.shape.reduce((product, size) => product * size, 1);
  out.global('torch._utils', '_rebuild_tensor_v2');
  out.byte(0x28); // MARK: the argument tuple
  out.byte(0x28); // MARK: the persistent id tuple
  out.sharedUnicode('storage');
  out.global('torch', STORAGE_CLASSES[tensor.dtype]);
  out.unicode(tensor.storageKey);
  out.put();
  out.sharedUnicode('cpu');
  out.int(numel);
  out.byte(0x74); // TUPLE
  out.put();
  out.byte(0x51); // BINPERSID
  out.int(0); // storage offset
  out.intTuple(tensor.shape);
  out.intTuple(contiguousStrides(tensor.shape));
  out.byte(0x89); // NEWFALSE: requires_grad
  out.global('collections', 'OrderedDict'); // backward hooks: OrderedDict()
  out.byte(0x29); // EMPTY_TUPLE
  out.byte(0x52); // REDUCE
  out.put();
  out.byte(0x74); // TUPLE
  out.put();
  out.byte(0x52); // REDUCE
  out.put();
}

/**
 * Emits opcodes and numbers the memo as Python does: every object saved once is memoized (BINPUT);
 * saving the same object again (a global, or the interned strings 'storage' and 'cpu') is a BINGET.
 */
class PickleEmitter {
  private readonly chunks: number[] = [];
  private readonly memoOf = new Map<string, number>();
  private memoCount = 0;

  byte(...values: number[]): void {
    this.chunks.push(...values);
  }

  /** BINPUT (LONG_BINPUT past 255) of the value just written; returns its memo index. */
  put(): number {
    const index = this.memoCount++;
    if (index < 256) this.byte(0x71, index);
    else this.byte(0x72, ...le(index, 4));
    return index;
  }

  private get(index: number): void {
    if (index < 256) this.byte(0x68, index);
    else this.byte(0x6a, ...le(index, 4));
  }

  private memoized(key: string, write: () => void): void {
    const index = this.memoOf.get(key);
    if (index !== undefined) {
      this.get(index);
      return;
    }
    write();
    this.memoOf.set(key, this.put());
  }

  global(module: string, name: string): void {
    this.memoized(`global ${module} ${name}`, () => {
      this.byte(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
    });
  }

  /** A string object torch reuses for every tensor, so Python memoizes it once. */
  sharedUnicode(text: string): void {
    this.memoized(`str ${text}`, () => this.unicode(text));
  }

  /** BINUNICODE (protocol 2 has no short form); the caller memoizes it. */
  unicode(text: string): void {
    const encoded = new TextEncoder().encode(text);
    this.byte(0x58, ...le(encoded.length, 4), ...encoded);
  }

  /** Python's `save_long` for protocol 2: the smallest of BININT1, BININT2, BININT, LONG1. */
  int(value: number): void {
    if (value >= 0 && value <= 0xff) this.byte(0x4b, value);
    else if (value >= 0 && value <= 0xffff) this.byte(0x4d, ...le(value, 2));
    else if (value >= -0x80000000 && value <= 0x7fffffff) this.byte(0x4a, ...le(value >>> 0, 4));
    else {
      const encoded = encodeLong(value);
      this.byte(0x8a, encoded.length, ...encoded);
    }
  }

  /** A tuple of ints; the empty tuple is a shared constant Python does not memoize. */
  intTuple(values: readonly number[]): void {
    if (values.length === 0) {
      this.byte(0x29);
      return;
    }
    if (values.length > 3) this.byte(0x28); // MARK
    for (const value of values) this.int(value);
    this.byte(values.length > 3 ? 0x74 : ([0x85, 0x86, 0x87][values.length - 1] ?? 0x74));
    this.put();
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** `value` as `count` little-endian bytes (unsigned). */
function le(value: number, count: number): number[] {
  const out: number[] = [];
  let rest = BigInt(value);
  for (let i = 0; i < count; i++) {
    out.push(Number(rest & 0xffn));
    rest >>= 8n;
  }
  return out;
}

/** Python's `pickle.encode_long`: minimal two's-complement little-endian bytes. */
function encodeLong(value: number): number[] {
  const big = BigInt(value);
  let count = 1;
  while (big >= 1n << BigInt(8 * count - 1) || big < -(1n << BigInt(8 * count - 1))) count++;
  const unsigned = big < 0n ? big + (1n << BigInt(8 * count)) : big;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Number((unsigned >> BigInt(8 * i)) & 0xffn));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The zip archive, laid out as torch's PyTorchStreamWriter (miniz) writes it.

/** torch aligns every entry's data to this many bytes, so a reader can map a storage in place. */
const DATA_ALIGNMENT = 64;
const UINT32_MAX = 0xffffffff;
/** The DOS time and date torch's writer stamps on every entry (00:00:00, 2024-04-18 in the golden file). */
const DOS_TIME = 0;
const DOS_DATE = 0x5892;
/** General purpose flags: bit 3 (sizes in a data descriptor after the data), bit 11 (UTF-8 names). */
const FLAGS = 0x0808;
const SIG_LOCAL = 0x04034b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_ZIP64_END = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_END = 0x06054b50;

interface WrittenEntry {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
}

/**
 * Writes the archive of a torch checkpoint: `<stem>/data.pkl`, `<stem>/byteorder`, `<stem>/data/<key>`
 * for each storage (in sorted key order, as torch does), `<stem>/version`, `<stem>/.data/serialization_id`.
 * The file appears at `path` only once complete (written beside it, then renamed).
 */
export async function writePthArchive(path: string, dataPkl: Uint8Array, storages: PthStorageRecord[]): Promise<void> {
  const stem = archiveStem(path);
  const sorted = [...storages].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const records: { name: string; data: Uint8Array }[] = [
    { name: `${stem}/data.pkl`, data: dataPkl },
    { name: `${stem}/byteorder`, data: new TextEncoder().encode('little') },
    ...sorted.map((storage) => ({ name: `${stem}/data/${storage.key}`, data: storage.data })),
    { name: `${stem}/version`, data: new TextEncoder().encode('3\n') },
  ];
  const partialPath = `${path}.partial-${process.pid}`;
  const file = await open(partialPath, 'w');
  try {
    const writer = new ZipWriter(async (bytes, position) => {
      // One write call takes at most 2 GiB; a 70B shard's tensors can be larger.
      for (let done = 0; done < bytes.length; ) {
        const length = Math.min(bytes.length - done, MAX_WRITE);
        const { bytesWritten } = await file.write(bytes, done, length, position + done);
        done += bytesWritten;
      }
    });
    for (const record of records) await writer.add(record.name, record.data);
    await writer.add(`${stem}/.data/serialization_id`, new TextEncoder().encode(writer.serializationId()));
    await writer.finish();
    await file.close();
    await rename(partialPath, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(partialPath, { force: true });
    throw error;
  }
}

/** torch names the archive's top folder after the file name without its last extension. */
function archiveStem(path: string): string {
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

type WriteAt = (bytes: Uint8Array, position: number) => Promise<void>;

const MAX_WRITE = 1 << 30;

class ZipWriter {
  private cursor = 0;
  private readonly entries: WrittenEntry[] = [];
  private readonly idHash = createHash('sha256');

  constructor(private readonly writeAt: WriteAt) {}

  private async write(bytes: Uint8Array): Promise<void> {
    await this.writeAt(bytes, this.cursor);
    this.cursor += bytes.length;
  }

  async add(nameText: string, data: Uint8Array): Promise<void> {
    const name = new TextEncoder().encode(nameText);
    const offset = this.cursor;
    const size = data.byteLength;
    const zip64 = size >= UINT32_MAX || offset >= UINT32_MAX;
    const zip64Extra = zip64 ? localZip64Extra(size, offset) : new Uint8Array(0);
    const extra = concat(zip64Extra, alignmentExtra(offset + 30 + name.length + zip64Extra.length + 4));
    const crc = crc32(data);

    const header = new Writer(30);
    header.u32(SIG_LOCAL).u16(0).u16(FLAGS).u16(0).u16(DOS_TIME).u16(DOS_DATE);
    header.u32(0).u32(0).u32(0); // crc and sizes follow the data, in the descriptor
    header.u16(name.length).u16(extra.length);
    await this.write(concat(header.bytes, name, extra));
    await this.write(data);

    const descriptor = new Writer(zip64 ? 24 : 16);
    descriptor.u32(SIG_DESCRIPTOR).u32(crc);
    if (zip64) descriptor.u64(size).u64(size);
    else descriptor.u32(size).u32(size);
    await this.write(descriptor.bytes);

    this.entries.push({ name, crc, size, offset });
    this.idHash.update(name).update(new Uint8Array(new Uint32Array([crc, size % 2 ** 32]).buffer));
  }

  /** 40 decimal digits like torch's (two zero-padded 64-bit numbers), here derived from the contents. */
  serializationId(): string {
    const digest = this.idHash.copy().digest();
    const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
    return [0, 8].map((at) => view.getBigUint64(at, true).toString().padStart(20, '0')).join('');
  }

  async finish(): Promise<void> {
    const centralStart = this.cursor;
    for (const entry of this.entries) await this.write(centralHeader(entry));
    const centralSize = this.cursor - centralStart;
    const zip64EndOffset = this.cursor;
    const count = this.entries.length;

    const end = new Writer(56 + 20 + 22);
    end.u32(SIG_ZIP64_END).u64(44).u16(0x031e).u16(0x2d).u32(0).u32(0);
    end.u64(count).u64(count).u64(centralSize).u64(centralStart);
    end.u32(SIG_ZIP64_LOCATOR).u32(0).u64(zip64EndOffset).u32(1);
    end.u32(SIG_END).u16(0).u16(0).u16(Math.min(count, 0xffff)).u16(Math.min(count, 0xffff));
    end.u32(Math.min(centralSize, UINT32_MAX)).u32(Math.min(centralStart, UINT32_MAX)).u16(0);
    await this.write(end.bytes);
  }
}

/** The extra field torch adds: "FB", length, then 'Z's up to the next 64-byte boundary. */
function alignmentExtra(dataStartWithoutPadding: number): Uint8Array {
  const padding = (DATA_ALIGNMENT - (dataStartWithoutPadding % DATA_ALIGNMENT)) % DATA_ALIGNMENT;
  const extra = new Uint8Array(4 + padding).fill(0x5a);
  extra.set([0x46, 0x42, padding & 0xff, padding >> 8]);
  return extra;
}

/** The local header's zip64 field, holding what torch's writer puts there for big entries or offsets. */
function localZip64Extra(size: number, offset: number): Uint8Array {
  const fields = new Writer(4 + (size >= UINT32_MAX ? 16 : 0) + (offset >= UINT32_MAX ? 8 : 0));
  fields.u16(0x0001).u16(fields.bytes.length - 4);
  if (size >= UINT32_MAX) fields.u64(size).u64(size);
  if (offset >= UINT32_MAX) fields.u64(offset);
  return fields.bytes;
}

function centralHeader(entry: WrittenEntry): Uint8Array {
  const bigSize = entry.size >= UINT32_MAX;
  const bigOffset = entry.offset >= UINT32_MAX;
  const zip64 = new Writer(bigSize || bigOffset ? 4 + (bigSize ? 16 : 0) + (bigOffset ? 8 : 0) : 0);
  if (bigSize || bigOffset) {
    zip64.u16(0x0001).u16(zip64.bytes.length - 4);
    if (bigSize) zip64.u64(entry.size).u64(entry.size);
    if (bigOffset) zip64.u64(entry.offset);
  }
  const header = new Writer(46);
  header.u32(SIG_CENTRAL).u16(0).u16(0).u16(FLAGS).u16(0).u16(DOS_TIME).u16(DOS_DATE).u32(entry.crc);
  header.u32(Math.min(entry.size, UINT32_MAX)).u32(Math.min(entry.size, UINT32_MAX));
  header.u16(entry.name.length).u16(zip64.bytes.length).u16(0).u16(0).u16(0).u32(0);
  header.u32(Math.min(entry.offset, UINT32_MAX));
  return concat(header.bytes, entry.name, zip64.bytes);
}

/** Little-endian fields into a fixed-size buffer. */
class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private at = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u16(value: number): this {
    this.view.setUint16(this.at, value, true);
    this.at += 2;
    return this;
  }

  u32(value: number): this {
    this.view.setUint32(this.at, value, true);
    this.at += 4;
    return this;
  }

  u64(value: number): this {
    this.view.setBigUint64(this.at, BigInt(value), true);
    this.at += 8;
    return this;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
