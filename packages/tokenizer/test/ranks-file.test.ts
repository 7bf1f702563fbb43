import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer, Tokenizer, TokenizerError } from '../src/node.js';

/** A rank file over the 256 single bytes, enough for a working tokenizer. */
function byteRanks(): string {
  return Array.from({ length: 256 }, (_, i) => `${Buffer.from([i]).toString('base64')} ${i}`).join('\n');
}

describe('rank file validation', () => {
  it('accepts a minimal byte-level file', () => {
    const tokenizer = Tokenizer.fromRanks(byteRanks());
    expect(tokenizer.nWords).toBe(512);
    expect(tokenizer.bosId).toBe(256);
    expect(tokenizer.decode(tokenizer.encode('héllo'))).toBe('héllo');
    tokenizer.free();
  });

  it.each([
    [
      'a line with one field',
      'IQ== 0\nIg==\n',
      /bad\.model, line 2: expected "<base64 token bytes> <rank>", found 1 field/,
    ],
    ['invalid base64', 'IQ== 0\n!!!! 1\n', /bad\.model, line 2: "!!!!" is not valid base64/],
    [
      'a rank that is not an integer',
      'IQ== 0\nIg== one\n',
      /bad\.model, line 2: rank "one" is not a non-negative integer/,
    ],
    ['a repeated rank', 'IQ== 0\nIg== 0\n', /bad\.model, line 2: rank 0 appears twice/],
    [
      'a byte repeated under another base64',
      `${byteRanks()}\nIR== 256\n`,
      /^bad\.model, line 257: its token is the same bytes as line 34's, written in another base64 \(IQ==\)/,
    ],
    [
      'missing byte tokens',
      byteRanks().split('\n').slice(0, 200).join('\n'),
      /^bad\.model: 56 of the 256 single bytes are not tokens \(0xc8, 0xc9, .*\); a BPE rank file must give every byte a rank of its own$/,
    ],
    ['a repeated token', 'IQ== 0\nIQ== 1\n', /bad\.model, line 2: token IQ== appears twice/],
    ['ranks with gaps', 'IQ== 0\nIg== 5\n', /bad\.model, line 2: rank 5 leaves gaps/],
    ['an empty file', '\n\n', /bad\.model: the file contains no token ranks/],
  ])('names the file and line for %s', (_, contents, message) => {
    expect(() => Tokenizer.fromRanks(contents, { source: 'bad.model' })).toThrow(message);
  });

  it('loadTokenizer names a missing file, and a bad one by its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llama-ts-tokenizer-'));
    await expect(loadTokenizer(join(dir, 'missing.model'))).rejects.toThrow(
      `Cannot read the tokenizer file ${join(dir, 'missing.model')}: no such file`,
    );
    await expect(loadTokenizer(dir)).rejects.toThrow(TokenizerError);
    const bad = join(dir, 'tokenizer.model');
    writeFileSync(bad, 'not a rank file at all\n');
    await expect(loadTokenizer(bad)).rejects.toThrow(
      `${bad}, line 1: expected "<base64 token bytes> <rank>", found 6 field(s)`,
    );
  });
});
