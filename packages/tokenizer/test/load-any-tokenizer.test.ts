import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharTokenizer, loadAnyTokenizer, Tokenizer, TokenizerError, UnsupportedTokenizerError } from '../src/node.js';

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

  it('refuses a FIFO or a directory given as a tokenizer, naming it, without hanging', async () => {
    const fifo = join(dir, 'fifo.model');
    execFileSync('mkfifo', [fifo]);
    await expect(loadAnyTokenizer(fifo)).rejects.toThrow(
      `${fifo}: the tokenizer file is a FIFO (named pipe), expected a regular file`,
    );
    await expect(loadAnyTokenizer(dir)).rejects.toThrow(
      `${dir}: the tokenizer file is a directory, expected a regular file`,
    );
  });

  it("tells a transformers tokenizer.json that is not Llama 3's apart and says it is not read yet", async () => {
    const path = join(dir, 'tokenizer.json');
    await writeFile(
      path,
      JSON.stringify({ version: '1.0', added_tokens: [], model: { type: 'BPE', vocab: { a: 0 } } }),
    );
    const error = await loadAnyTokenizer(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedTokenizerError);
    expect(error).toBeInstanceOf(TokenizerError);
    expect((error as Error).message).toBe(
      `${path} is a Hugging Face tokenizers file (transformers' tokenizer.json), which llama-ts does not read yet; the pre-tokenizer does not split with Llama 3's regex (only Llama 3's byte-level BPE tokenizer.json is read): use the model's tiktoken tokenizer.model instead (llama-ts: --tokenizer <download>/original/tokenizer.model), or give token ids (--prompt-tokens)`,
    );
  });

  it('names the file when it is neither', async () => {
    const path = join(dir, 'notes.md');
    await writeFile(path, '# not a tokenizer\n');
    const error = await loadAnyTokenizer(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenizerError);
    expect((error as Error).message).toBe(
      `${path}: not a tokenizer file: expected Llama 3's tokenizer.model (lines of "<base64 bytes> <rank>"), Llama 2's tokenizer.model (a SentencePiece protobuf), a Hugging Face tokenizer.json or a character tokenizer's tokenizer.json`,
    );
    await expect(loadAnyTokenizer(join(dir, 'missing.model'))).rejects.toThrow(/no such file/);
  });
});
