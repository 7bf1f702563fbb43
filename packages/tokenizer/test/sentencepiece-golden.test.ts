// Every case of ../shared/data/sentencepiece/sentencepiece-golden.json (ids, pieces and decode as the
// sentencepiece library gives them) and all of Tiny Shakespeare; round trips through byte fallback;
// streaming decode over characters split across byte pieces.
import { createHash } from 'node:crypto';
import { readSharedJson, readSharedText } from '@llama-ts/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SentencePieceTokenizer } from '../src/index.js';
import { sentencePieceTokenizer } from './fixtures.js';

interface Golden {
  cases: { text: string; ids: number[]; pieces: string[]; decoded: string }[];
  tiny_shakespeare: { n_ids: number; sha256_of_ids_joined_by_comma: string; first_40: number[] };
}

const golden = readSharedJson<Golden>('data', 'sentencepiece', 'sentencepiece-golden.json');
const label = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);

let tokenizer: SentencePieceTokenizer;
beforeAll(async () => {
  tokenizer = await sentencePieceTokenizer();
});

function streamAll(ids: readonly number[]): string[] {
  const decoder = tokenizer.streamDecoder();
  const deltas = ids.map((id) => decoder.push(id));
  deltas.push(decoder.end());
  return deltas;
}

describe('the model file', () => {
  it("reads Llama 2's settings and special pieces", () => {
    expect(tokenizer.nWords).toBe(4096);
    expect([tokenizer.unkId, tokenizer.bosId, tokenizer.eosId, tokenizer.padId]).toEqual([0, 1, 2, -1]);
    expect([...tokenizer.stopTokens]).toEqual([2]);
    expect(tokenizer.settings).toMatchObject({
      addDummyPrefix: true,
      removeExtraWhitespaces: false,
      escapeWhitespaces: true,
      byteFallback: true,
    });
    expect(['<unk>', '<s>', '</s>', '<0x0A>'].map((p) => tokenizer.pieceToId(p))).toEqual([0, 1, 2, 13]);
    expect([0, 1, 13, 4035].map((id) => tokenizer.pieceType(id))).toEqual(['unknown', 'control', 'byte', 'normal']);
  });
});

describe('golden cases', () => {
  it.each(golden.cases.map((c) => [label(c.text), c] as const))('%s', (_, c) => {
    expect(tokenizer.encode(c.text)).toEqual(c.ids);
    expect(tokenizer.encodePieces(c.text)).toEqual(c.pieces);
    expect(tokenizer.decode(c.ids)).toBe(c.decoded);
    expect(streamAll(c.ids).join('')).toBe(c.decoded);
  });

  it('adds bos and eos as Llama 2 Tokenizer.encode does, and decodes them as nothing', () => {
    const ids = tokenizer.encode('Hello World', { bos: true, eos: true });
    expect(ids).toEqual([1, 329, 3842, 310, 273, 318, 2]);
    expect(tokenizer.decode(ids)).toBe('Hello World');
    expect(tokenizer.encode('', { bos: true })).toEqual([1]);
  });
});

describe('Tiny Shakespeare', () => {
  it('gives the golden ids for the whole corpus, and decodes back to it', () => {
    const text = readSharedText('data', 'tiny_shakespeare.txt');
    const ids = tokenizer.encode(text);
    const expected = golden.tiny_shakespeare;
    expect(ids.length).toBe(expected.n_ids);
    expect(ids.slice(0, 40)).toEqual(expected.first_40);
    expect(createHash('sha256').update(ids.join(',')).digest('hex')).toBe(expected.sha256_of_ids_joined_by_comma);
    expect(tokenizer.decode(ids)).toBe(text);
    // Encoding again (words now cached) gives the same ids.
    expect(tokenizer.encode(text)).toEqual(ids);
  });
});

describe('byte fallback round trips', () => {
  it.each([
    ['Chinese', '我们今天去公园散步，天气很好。'],
    ['Hindi', 'नमस्ते दुनिया'],
    ['Arabic', 'مرحبا بالعالم'],
    ['Russian', 'Привет, мир! Ёжик'],
    ['emoji and ZWJ sequences', '😀👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🦙🔥'],
    ['astral hieroglyph', '𓀀𓀁'],
    ['mixed', ' Tab\tand  two spaces, digits 0123456789, café 日本 😀\n'],
  ])('%s', (_, text) => {
    const ids = tokenizer.encode(text);
    expect(tokenizer.decode(ids)).toBe(text);
    expect(ids.every((id) => id >= 0 && id < tokenizer.nWords)).toBe(true);
  });

  it('spells characters outside the vocabulary as their UTF-8 bytes', () => {
    expect(tokenizer.encodePieces('🦙')).toEqual(['▁', '<0xF0>', '<0x9F>', '<0xA6>', '<0x99>']);
  });

  it('turns a lone surrogate into U+FFFD, as sentencepiece does with the invalid UTF-8 it stands for', () => {
    expect(tokenizer.decode(tokenizer.encode('a\ud800b'))).toBe('a\ufffdb');
  });
});

describe('streaming decode', () => {
  it('holds back a character split across byte pieces until its last byte', () => {
    const ids = tokenizer.encode('mix 🦙!');
    const emoji = ids.map((id) => tokenizer.idToPiece(id)).indexOf('<0xF0>');
    const deltas = streamAll(ids);
    expect(deltas.slice(emoji, emoji + 3)).toEqual(['', '', '']);
    expect(deltas[emoji + 3]).toBe('🦙');
    expect(deltas.join('')).toBe('mix 🦙!');
  });

  it('never shows U+FFFD for valid text, and adds up to decode()', () => {
    const text = '日本語のテキスト 😀👍🏽 👨‍👩‍👧‍👦 𓀀 नमस्ते 🏳️‍🌈 done';
    const deltas = streamAll(tokenizer.encode(text));
    for (const delta of deltas) expect(delta).not.toContain('\ufffd');
    expect(deltas.join('')).toBe(text);
  });

  it('drops the dummy prefix space of the first piece only, as decode does', () => {
    const ids = tokenizer.encode('Hello World');
    expect(streamAll(ids)).toEqual(['H', 'ello', ' W', 'or', 'ld', '']);
    // A bos first changes nothing: control pieces are invisible.
    expect(streamAll([1, ...ids]).join('')).toBe('Hello World');
  });

  it('replaces each byte that starts no valid character with one U+FFFD, as sentencepiece', () => {
    const byte = (b: number) => tokenizer.pieceToId(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    // A truncated 3-byte character: two bytes, two U+FFFD (TextDecoder would give one).
    expect(tokenizer.decode([byte(0xe6), byte(0x97)])).toBe('\ufffd\ufffd');
    // A normal piece between the bytes ends the run.
    expect(tokenizer.decode([byte(0xe6), tokenizer.pieceToId('▁a'), byte(0x97), byte(0xa5)])).toBe(
      '\ufffd a\ufffd\ufffd',
    );
    // Overlong and surrogate encodings are invalid too.
    expect(tokenizer.decode([byte(0xc0), byte(0x80)])).toBe('\ufffd\ufffd');
    expect(tokenizer.decode([byte(0xed), byte(0xa0), byte(0x80)])).toBe('\ufffd\ufffd\ufffd');
  });

  it('adds up to decode() on random ids, invalid UTF-8 included', () => {
    let state = 99;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    for (let trial = 0; trial < 300; trial++) {
      const length = 1 + Math.floor(next() * 16);
      // Mostly byte pieces (ids 3..258), some whole pieces and control pieces.
      const ids = Array.from({ length }, () =>
        next() < 0.7 ? 3 + Math.floor(next() * 256) : Math.floor(next() * tokenizer.nWords),
      );
      expect(streamAll(ids).join('')).toBe(tokenizer.decode(ids));
    }
  });

  it('decodes <unk> as " ⁇ " and rejects ids outside the vocabulary', () => {
    expect(tokenizer.decode([0])).toBe(' \u2047 ');
    expect(() => tokenizer.decode([4096])).toThrow(
      /ids\[0\] is number 4096; expected an integer token id in 0\.\.4095/,
    );
    expect(() => tokenizer.streamDecoder().push(-1)).toThrow(/expected an integer token id/);
  });
});
