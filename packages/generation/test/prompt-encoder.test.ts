// Llama.encodePrompt: long prompts are encoded on a worker thread (the built dist/encode-worker.js,
// which this package's tests wait for) and give exactly the ids stream() would run.
import { rm } from 'node:fs/promises';
import { goldenDir } from '@llama-ts/test-support';
import { TokenizerError } from '@llama-ts/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationError, Llama } from '../src/index.js';
import { INLINE_ENCODE_LIMIT } from '../src/prompt-encoder.js';
import { LLAMA3_TOKENIZER, randomLlama2Checkpoint, randomLlama3Checkpoint } from './fixtures.js';

/** Runs `work` while counting event-loop turns: a prompt encoded inline would let none through. */
async function countingTurns<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { result: await work(), turns };
  } finally {
    running = false;
  }
}

describe('encodePrompt with the Llama 3 tokenizer', () => {
  let dir: string;
  let llama: Llama;
  beforeAll(async () => {
    dir = await randomLlama3Checkpoint();
    llama = await Llama.build({ ckptDir: dir, tokenizerPath: LLAMA3_TOKENIZER, backend: 'cpu', maxSeqLen: 64 });
  });
  afterAll(async () => {
    llama?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a long prompt without spaces (CJK) is encoded off the event loop, with the inline ids', async () => {
    const text = '漢字かな交じり文'.repeat(1100); // 8,800 characters, one BPE piece
    expect(text.length).toBeGreaterThan(INLINE_ENCODE_LIMIT);
    const { result, turns } = await countingTurns(() => llama.encodePrompt(text));
    expect(turns).toBeGreaterThan(0);
    expect(result).toEqual(llama.tokenizer.encode(text, { bos: true, eos: false }));
  });

  it('a long dialog goes the same way and matches the chat format', async () => {
    const dialog = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'word '.repeat(3000) },
    ];
    const ids = await llama.encodePrompt(dialog);
    expect(ids).toEqual(llama.chatFormat?.encodeDialogPrompt(dialog));
  });

  it('a worker that cannot open the tokenizer leaves long prompts to the calling thread', async () => {
    const stray = new Llama(llama.model, llama.tokenizer, {
      tokenizerSource: { options: { ckptDir: '/nonexistent/llama-ts' }, isGGUF: false, vocabSize: 128256 },
    });
    const text = 'word '.repeat(2000);
    const inline = llama.tokenizer.encode(text, { bos: true, eos: false });
    expect(await stray.encodePrompt(text)).toEqual(inline);
    expect(await stray.encodePrompt(text)).toEqual(inline); // and keeps doing so, without a worker
  });

  it('short prompts are encoded inline, equal to the tokenizer', async () => {
    expect(await llama.encodePrompt('Hello')).toEqual(llama.tokenizer.encode('Hello', { bos: true, eos: false }));
  });
});

describe('encodePrompt errors come back as the same error classes', () => {
  it("Llama 2's chat format refuses roles that do not alternate, from the worker too", async () => {
    const dir = await randomLlama2Checkpoint();
    const llama = await Llama.build({ ckptDir: dir, backend: 'cpu', maxSeqLen: 64 });
    try {
      const long = 'x'.repeat(INLINE_ENCODE_LIMIT + 1);
      const dialog = [
        { role: 'user' as const, content: long },
        { role: 'user' as const, content: 'again' },
      ];
      await expect(llama.encodePrompt(dialog)).rejects.toThrow(TokenizerError);
      await expect(llama.encodePrompt(dialog)).rejects.toThrow(/alternating/);
    } finally {
      llama.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without a tokenizer, long text that is not <n> ids is a GenerationError from the worker', async () => {
    const llama = await Llama.build({ ckptDir: goldenDir('tiny-meta-bf16'), backend: 'cpu', withoutTokenizer: 'ids' });
    try {
      const ids = await llama.encodePrompt('<1><2>'.repeat(2000));
      expect(ids.slice(0, 4)).toEqual([1, 2, 1, 2]);
      expect(ids).toHaveLength(4000);
      await expect(llama.encodePrompt(`${'<1>'.repeat(3000)} words`)).rejects.toThrow(GenerationError);
    } finally {
      llama.dispose();
    }
  });

  it('a dialog for a model without a chat format fails before any worker runs', async () => {
    const llama = await Llama.build({ ckptDir: goldenDir('tiny-meta-bf16'), backend: 'cpu', withoutTokenizer: 'ids' });
    try {
      await expect(llama.encodePrompt([{ role: 'user', content: 'hi' }])).rejects.toThrow(/chat format/);
    } finally {
      llama.dispose();
    }
  });
});
