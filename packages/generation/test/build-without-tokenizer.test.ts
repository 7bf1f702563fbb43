// Llama.build on a checkpoint folder without a tokenizer: an error by default, token ids with
// withoutTokenizer: 'ids' (as the CLI opens such folders).
import { readSharedJson, sharedPath } from '@llama-ts/test-support';
import { describe, expect, it } from 'vitest';
import { GenerationError, Llama } from '../src/index.js';
import { LLAMA3_TOKENIZER } from './fixtures.js';

const ckptDir = sharedPath('golden', 'tiny-meta-bf16');

describe('Llama.build without a tokenizer', () => {
  it('says the folder has none, and how to open it with token ids', async () => {
    const error = await Llama.build({ ckptDir, backend: 'cpu' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GenerationError);
    expect((error as Error).message).toBe(
      `Llama.build: no tokenizerPath given and ${ckptDir} has neither tokenizer.model nor tokenizer.json (withoutTokenizer: 'ids' opens it with token ids only)`,
    );
  });

  it("with withoutTokenizer: 'ids' spells ids as <n> and stops on the stopTokens given", async () => {
    const expected = readSharedJson<{ tokens: number[]; greedy: { tokens: number[] } }>(
      'golden',
      'tiny-meta-bf16',
      'expected.json',
    );
    const stop = expected.greedy.tokens[3] as number;
    const llama = await Llama.build({ ckptDir, backend: 'cpu', withoutTokenizer: 'ids', stopTokens: [stop] });
    try {
      expect(llama.hasTokenizer).toBe(false);
      const prompt = expected.tokens.map((id) => `<${id}>`).join('');
      const [completion] = await llama.textCompletion([prompt], { temperature: 0, maxGenLen: 16 });
      const ids = expected.greedy.tokens.slice(0, 3);
      expect(completion?.generation).toBe(ids.map((id) => `<${id}>`).join(''));
    } finally {
      llama.dispose();
    }
  });

  it('refuses stopTokens when the model has a tokenizer', async () => {
    await expect(
      Llama.build({ ckptDir, tokenizerPath: LLAMA3_TOKENIZER, backend: 'cpu', stopTokens: [1] }),
    ).rejects.toThrow('Llama.build: stopTokens is for checkpoints without a tokenizer');
  });
});
