import type { StreamDecoder } from '../stream-decoder.js';
import { META_SPACE } from './normalizer.js';
import type { PieceType } from './types.js';

/** What decoding needs to know of the vocabulary. */
export interface DecodeVocabulary {
  readonly pieces: readonly string[];
  readonly types: readonly PieceType[];
  /** The byte of each byte piece (`<0x0A>` → 10), -1 for other pieces. */
  readonly byteValues: Int16Array;
  readonly unkSurface: string;
  /** Whether the first piece's leading `▁` is the dummy prefix (add_dummy_prefix or remove_extra_whitespaces). */
  readonly stripsLeadingSpace: boolean;
  /** remove_extra_whitespaces: every leading `▁` goes until some text has been produced. */
  readonly removeExtraWhitespaces: boolean;
}

const REPLACEMENT = '\ufffd';

/**
 * sentencepiece's `Decode`, one id at a time: control pieces are invisible, `<unk>` shows the unknown
 * surface, `▁` becomes a space, the dummy prefix's `▁` is dropped from the first piece that has it
 * (until some text has been produced), and each run of byte pieces is read as UTF-8 where every
 * byte that does not start a valid character becomes one U+FFFD (sentencepiece's rule, not
 * TextDecoder's: a truncated 3-byte sequence gives two U+FFFD, not one). Bytes that may still start a
 * character are held back until the next id decides, so the pieces `push` and `end` return add up
 * to the one-shot decode of all the ids (which is this decoder, run to the end).
 */
export function createSentencePieceDecoder(vocab: DecodeVocabulary, checkId: (id: unknown) => number): StreamDecoder {
  let pending: number[] = [];
  let expectLeadingSpace = true;
  let leadingSpaceSeen = false;
  let produced = false;

  const emit = (text: string): string => {
    if (text !== '') produced = true;
    return text;
  };

  /** Decodes the held bytes; unless `final`, keeps an incomplete character that may still complete. */
  const drain = (final: boolean): string => {
    let out = '';
    let offset = 0;
    while (offset < pending.length) {
      const need = sequenceLength(pending[offset] as number);
      if (!final && pending.length - offset < need && trailBytesFrom(pending, offset + 1)) break;
      const consumed = validSequenceLength(pending, offset, need);
      out += consumed === 0 ? REPLACEMENT : String.fromCodePoint(codePointOf(pending, offset, consumed));
      offset += consumed || 1;
    }
    pending = offset === pending.length ? [] : pending.slice(offset);
    return emit(out);
  };

  const pieceText = (id: number): string => {
    const type = vocab.types[id];
    if (type === 'control') return '';
    if (type === 'unknown') return vocab.unkSurface;
    let piece = vocab.pieces[id] as string;
    if (expectLeadingSpace && vocab.stripsLeadingSpace && piece.startsWith(META_SPACE)) {
      piece = piece.slice(META_SPACE.length);
      // With remove_extra_whitespaces every leading ▁ goes, not only the first one.
      leadingSpaceSeen = !vocab.removeExtraWhitespaces;
    }
    return piece.replaceAll(META_SPACE, ' ');
  };

  return {
    push(id: number): string {
      const checked = checkId(id);
      const byte = vocab.byteValues[checked] as number;
      if (byte >= 0) {
        pending.push(byte);
        return drain(false);
      }
      let out = drain(true);
      if (leadingSpaceSeen || produced) expectLeadingSpace = false;
      leadingSpaceSeen = false;
      out += emit(pieceText(checked));
      return out;
    },
    end(): string {
      const out = drain(true);
      pending = [];
      expectLeadingSpace = true;
      leadingSpaceSeen = false;
      produced = false;
      return out;
    },
  };
}

/** How many bytes the character starting with `lead` takes (1 for a byte that starts none). */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) === 0xc0) return 2;
  if ((lead & 0xf0) === 0xe0) return 3;
  if ((lead & 0xf8) === 0xf0) return 4;
  return 1;
}

function isTrail(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

function trailBytesFrom(bytes: readonly number[], from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (!isTrail(bytes[i] as number)) return false;
  return true;
}

/** sentencepiece's DecodeUTF8: the length of the valid character at `offset`, or 0 when invalid. */
function validSequenceLength(bytes: readonly number[], offset: number, need: number): number {
  const lead = bytes[offset] as number;
  if (lead < 0x80) return 1;
  if (need === 1 || bytes.length - offset < need) return 0;
  for (let i = 1; i < need; i++) if (!isTrail(bytes[offset + i] as number)) return 0;
  const cp = codePointOf(bytes, offset, need);
  const minimum = need === 2 ? 0x80 : need === 3 ? 0x800 : 0x10000;
  const valid = cp >= minimum && (cp < 0xd800 || (cp >= 0xe000 && cp <= 0x10ffff));
  return valid ? need : 0;
}

function codePointOf(bytes: readonly number[], offset: number, length: number): number {
  const lead = bytes[offset] as number;
  if (length === 1) return lead;
  let cp = lead & (0xff >> (length + 1));
  for (let i = 1; i < length; i++) cp = (cp << 6) | ((bytes[offset + i] as number) & 0x3f);
  return cp;
}
