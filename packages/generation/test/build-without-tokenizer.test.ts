// Llama.build on a checkpoint folder without a tokenizer: an error by default, token ids with
// withoutTokenizer: 'ids' (as the CLI opens such folders).
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSharedJson, sharedPath } from '@llama-ts/test-support';
import { UnsupportedTokenizerError } from '@llama-ts/tokenizer';
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

  it('reads text only as <n> ids: words around them are an error, not dropped', async () => {
    const llama = await Llama.build({ ckptDir, backend: 'cpu', withoutTokenizer: 'ids' });
    try {
      expect(llama.tokenizer.encode(' <1> <2>\n<3> ', { bos: false, eos: false })).toEqual([1, 2, 3]);
      const error = await llama.textCompletion(['<1> hello <2>']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenerationError);
      expect((error as Error).message).toBe(
        `without a tokenizer (${ckptDir} has no tokenizer.model or tokenizer.json), text is read only as token ids spelled <n> (e.g. "<1><2>"); found "hello <2>" at character 4`,
      );
    } finally {
      llama.dispose();
    }
  });

  it("opens a Hugging Face folder with transformers' tokenizer.json on token ids, and says why text is refused", async () => {
    const hf = await mkdtemp(join(tmpdir(), 'llama-ts-hf-tokenizer-json-'));
    for (const file of ['config.json', 'model.safetensors']) {
      await symlink(sharedPath('golden', 'tiny-hf-f16', file), join(hf, file));
    }
    const tokenizerJson = join(hf, 'tokenizer.json');
    await writeFile(
      tokenizerJson,
      JSON.stringify({
        version: '1.0',
        added_tokens: [],
        pre_tokenizer: null,
        model: { type: 'BPE', vocab: {}, merges: [] },
      }),
    );
    const refused = await Llama.build({ ckptDir: hf, backend: 'cpu' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnsupportedTokenizerError);
    expect((refused as Error).message).toMatch(
      /is a Hugging Face tokenizers file \(transformers' tokenizer\.json\), which llama-ts does not read yet/,
    );
    const llama = await Llama.build({ ckptDir: hf, backend: 'cpu', withoutTokenizer: 'ids' });
    try {
      expect(llama.hasTokenizer).toBe(false);
      const [completion] = await llama.textCompletion(['<1><2><3>'], { temperature: 0, maxGenLen: 2 });
      expect(completion?.generation).toMatch(/^<\d+><\d+>$/);
      await expect(llama.textCompletion(['hello'])).rejects.toThrow(
        `without a tokenizer (${tokenizerJson} is a Hugging Face tokenizers file`,
      );
    } finally {
      llama.dispose();
    }
  });
});
