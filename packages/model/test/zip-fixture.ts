/**
 * A small zip writer for crafted test archives: entries STORED or DEFLATED, and a local header that
 * may be made to disagree with the central directory (another name, size, method or offset), which
 * no real writer produces. Only for tests: the checkpoint writer is src/checkpoint/torch-zip-writer.ts.
 */

import { writeFile } from 'node:fs/promises';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipFixtureEntry {
  name: string;
  data: Uint8Array;
  /** 0 STORED (default) or 8 DEFLATED. */
  method?: 0 | 8;
  /** What the local header says instead of the truth (the central directory always tells the truth). */
  local?: {
    name?: string;
    method?: number;
    compressedSize?: number;
    uncompressedSize?: number;
    crc?: number;
    flags?: number;
  };
  /** What the central directory says instead of the truth. */
  central?: { compressedSize?: number; uncompressedSize?: number };
  /** Added to the offset the central directory gives for this entry's local header. */
  centralOffsetDelta?: number;
}

/** Writes `entries` as a zip archive at `path`. */
export async function writeZipFixture(path: string, entries: ZipFixtureEntry[]): Promise<void> {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const method = entry.method ?? 0;
    const stored = method === 8 ? deflateRawSync(entry.data, { level: 1 }) : Buffer.from(entry.data);
    const crc = crc32(entry.data);
    const name = Buffer.from(entry.name, 'utf8');
    const localName = Buffer.from(entry.local?.name ?? entry.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(entry.local?.flags ?? 0x0800, 6);
    local.writeUInt16LE(entry.local?.method ?? method, 8);
    local.writeUInt32LE(entry.local?.crc ?? crc, 14);
    local.writeUInt32LE(entry.local?.compressedSize ?? stored.length, 18);
    local.writeUInt32LE(entry.local?.uncompressedSize ?? entry.data.length, 22);
    local.writeUInt16LE(localName.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(0x0800, 8);
    header.writeUInt16LE(method, 10);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(entry.central?.compressedSize ?? stored.length, 20);
    header.writeUInt32LE(entry.central?.uncompressedSize ?? entry.data.length, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(offset + (entry.centralOffsetDelta ?? 0), 42);
    central.push(header, name);
    chunks.push(local, localName, stored);
    offset += local.length + localName.length + stored.length;
  }
  const centralBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  await writeFile(path, Buffer.concat([...chunks, centralBytes, end]));
}
