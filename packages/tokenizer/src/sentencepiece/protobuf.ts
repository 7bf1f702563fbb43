import { TokenizerError } from '../errors.js';

/**
 * The protobuf wire format, read by hand: SentencePiece's `ModelProto` needs five wire types and a
 * dozen fields, which does not justify a protobuf library (and its code generation) in a package
 * that also runs in browsers. Only what `tokenizer.model` files use is supported; anything else is a
 * TokenizerError naming the file and the byte offset.
 */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

export interface ProtoField {
  /** The field number from the message definition. */
  number: number;
  wireType: number;
  /** Offset of the field's key in the whole buffer, for error messages. */
  offset: number;
  /** Varint value (as a JS number: exact below 2^53), or 0. */
  varint: number;
  /** The varint's low 32 bits as a signed integer: an int32 field's value, negative ones included. */
  int32: number;
  /** The bytes of a length-delimited or fixed-size value (a view, not a copy). */
  bytes: Uint8Array;
  /** Offset of `bytes` in the whole buffer: the `base` to read a nested message with. */
  valueOffset: number;
}

/** Reads one message's fields in order; `base` is the message's offset in the file, for errors. */
export function* readProtoFields(buffer: Uint8Array, source: string, base = 0): Generator<ProtoField> {
  let pos = 0;
  const fail = (problem: string, at: number): never => {
    throw new TokenizerError(`${source}: not a valid SentencePiece model (protobuf): ${problem} at byte ${base + at}`);
  };
  let low32 = 0;
  const readVarint = (): number => {
    let value = 0;
    let scale = 1;
    low32 = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= buffer.length) fail('the file ends inside a number (truncated?)', pos);
      const byte = buffer[pos++] as number;
      value += (byte & 0x7f) * scale;
      if (i < 5) low32 |= (byte & 0x7f) << (7 * i);
      if (byte < 0x80) return value;
      scale *= 128;
    }
    return fail('a number longer than 10 bytes', pos);
  };
  while (pos < buffer.length) {
    const offset = pos;
    const key = readVarint();
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    if (number === 0) fail('field number 0', offset);
    let varint = 0;
    let int32 = 0;
    let bytes: Uint8Array = EMPTY;
    let valueOffset = base + pos;
    if (wireType === WIRE_VARINT) {
      varint = readVarint();
      int32 = low32;
    } else if (wireType === WIRE_LENGTH_DELIMITED || wireType === WIRE_FIXED32 || wireType === WIRE_FIXED64) {
      const length = wireType === WIRE_LENGTH_DELIMITED ? readVarint() : wireType === WIRE_FIXED32 ? 4 : 8;
      if (pos + length > buffer.length) {
        fail(`field ${number} needs ${length} bytes but the file ends first (truncated?)`, offset);
      }
      valueOffset = base + pos;
      bytes = buffer.subarray(pos, pos + length);
      pos += length;
    } else {
      fail(`unsupported wire type ${wireType} (field ${number})`, offset);
    }
    yield { number, wireType, offset: base + offset, varint, int32, bytes, valueOffset };
  }
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Typed access to one field's value, checking its wire type. */
export class FieldReader {
  constructor(
    private readonly source: string,
    private readonly messageName: string,
  ) {}

  #expect(field: ProtoField, wireType: number, what: string): void {
    if (field.wireType !== wireType) {
      throw new TokenizerError(
        `${this.source}: not a valid SentencePiece model (protobuf): ${this.messageName} field ${field.number} should be ${what} (wire type ${wireType}), got wire type ${field.wireType} at byte ${field.offset}`,
      );
    }
  }

  string(field: ProtoField): string {
    this.#expect(field, WIRE_LENGTH_DELIMITED, 'a string');
    try {
      return utf8.decode(field.bytes);
    } catch {
      throw new TokenizerError(
        `${this.source}: not a valid SentencePiece model: ${this.messageName} field ${field.number} at byte ${field.offset} is not UTF-8 text`,
      );
    }
  }

  bytes(field: ProtoField): Uint8Array {
    this.#expect(field, WIRE_LENGTH_DELIMITED, 'bytes');
    return field.bytes;
  }

  message(field: ProtoField): ProtoField['bytes'] {
    this.#expect(field, WIRE_LENGTH_DELIMITED, 'a message');
    return field.bytes;
  }

  varint(field: ProtoField): number {
    this.#expect(field, WIRE_VARINT, 'a number');
    return field.varint;
  }

  /** An int32 (negative values are 10-byte varints, two's complement on 64 bits). */
  int32(field: ProtoField): number {
    this.#expect(field, WIRE_VARINT, 'a number');
    return field.int32;
  }

  bool(field: ProtoField): boolean {
    return this.varint(field) !== 0;
  }

  float(field: ProtoField): number {
    this.#expect(field, WIRE_FIXED32, 'a float');
    return new DataView(field.bytes.buffer, field.bytes.byteOffset, 4).getFloat32(0, true);
  }
}
