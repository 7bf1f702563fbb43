// The streaming decoder emits text only at complete UTF-8 boundaries and always adds up to decode().
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer } from '../src/index.js';
import { llama3Tokenizer } from './fixtures.js';

let tokenizer: Tokenizer;
beforeAll(async () => {
  tokenizer = await llama3Tokenizer();
});

function streamAll(ids: number[]): string[] {
  const decoder = tokenizer.streamDecoder();
  const deltas = ids.map((id) => decoder.push(id));
  deltas.push(decoder.end());
  return deltas;
}

/** Seeded xorshift32, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe('streamDecoder', () => {
  it('holds back an emoji split across tokens until it is complete', () => {
    // 76460 and 222 are the two byte-level halves of 😀 (golden decode case).
    const decoder = tokenizer.streamDecoder();
    expect(decoder.push(76460)).toBe('');
    expect(decoder.push(222)).toBe('😀');
    expect(decoder.push(0)).toBe('!');
    expect(decoder.end()).toBe('');
  });

  it('never shows U+FFFD for valid text split at code points (CJK, emoji, ZWJ)', () => {
    const text = '日本語のテキスト 😀👍🏽 👨‍👩‍👧‍👦 𓀀 我们今天去公园散步 नमस्ते 🏳️‍🌈';
    const ids = tokenizer.encode(text);
    // The test only means something if some character really is split across tokens.
    const pieces = ids.map((id) => new TextDecoder().decode(tokenizer.tokenBytes(id)));
    expect(pieces.some((piece) => piece.includes('\ufffd'))).toBe(true);
    const deltas = streamAll(ids);
    for (const delta of deltas) expect(delta).not.toContain('\ufffd');
    expect(deltas.join('')).toBe(text);
  });

  it('adds up to decode() on random ids, invalid UTF-8 included', () => {
    const next = random(1234);
    for (let trial = 0; trial < 200; trial++) {
      const length = 1 + Math.floor(next() * 20);
      // Mostly single-byte tokens (0..255 covers lone continuation and lead bytes), some whole tokens.
      const ids = Array.from({ length }, () =>
        next() < 0.7 ? Math.floor(next() * 256) : Math.floor(next() * tokenizer.nWords),
      );
      expect(streamAll(ids).join('')).toBe(tokenizer.decode(ids));
    }
  });

  it('flushes an incomplete sequence as U+FFFD at the end, like decode()', () => {
    const decoder = tokenizer.streamDecoder();
    expect(decoder.push(76460)).toBe('');
    expect(decoder.end()).toBe('\ufffd');
    // end() resets: the decoder can be reused.
    expect(decoder.push(0)).toBe('!');
  });
});
