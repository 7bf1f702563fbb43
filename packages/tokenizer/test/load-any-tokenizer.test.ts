import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharTokenizer, loadAnyTokenizer, Tokenizer, TokenizerError } from '../src/node.js';

describe('loadAnyTokenizer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-ts-any-tokenizer-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("loads Llama 3's tokenizer.model as the tiktoken Tokenizer", async () => {
    const tokenizer = await loadAnyTokenizer(sharedPath('data', 'llama3', 'tokenizer.model'));
    expect(tokenizer).toBeInstanceOf(Tokenizer);
    expect(tokenizer.nWords).toBe(128256);
  });

  it("loads a character tokenizer's JSON whatever the file is called", async () => {
    const path = join(dir, 'chars.txt');
    const saved = CharTokenizer.fromCorpus('hello world');
    await writeFile(path, JSON.stringify(saved.toJSON()));
    const tokenizer = await loadAnyTokenizer(path);
    expect(tokenizer).toBeInstanceOf(CharTokenizer);
    expect(tokenizer.decode(tokenizer.encode('hello', { bos: false, eos: false }))).toBe('hello');
  });

  it('names the file when it is neither', async () => {
    const path = join(dir, 'notes.md');
    await writeFile(path, '# not a tokenizer\n');
    const error = await loadAnyTokenizer(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenizerError);
    expect((error as Error).message).toBe(
      `${path}: not a tokenizer file: expected Llama 3's tokenizer.model (lines of "<base64 bytes> <rank>"), a Hugging Face tokenizer.json or a character tokenizer's tokenizer.json`,
    );
    await expect(loadAnyTokenizer(join(dir, 'missing.model'))).rejects.toThrow(/no such file/);
  });
});
