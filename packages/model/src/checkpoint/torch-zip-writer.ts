/**
 * The zip archive of a torch checkpoint, laid out as torch's PyTorchStreamWriter (miniz) writes it:
 * entries STORED, each entry's data aligned to 64 bytes with torch's "FB" padding extra field, data
 * descriptors, zip64 end records.
 *
 * The zip is written by hand (a stored-only writer is small): the exact layout torch's miniz
 * writer produces (alignment, data descriptors, zip64 end records) is the point, and no zip library
 * lets us control it.
 */

import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';

export interface PthStorageRecord {
  key: string;
  data: Uint8Array;
}

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
