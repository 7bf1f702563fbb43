// textCompletion, chatCompletion and ChatSession with the real Llama 3 tokenizer, on a small random
// model with Llama 3's vocabulary (built through Llama.build, as an app would).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationError, Llama } from '../src/index.js';
import { LLAMA3_TOKENIZER, randomLlama3Checkpoint } from './fixtures.js';

let llama: Llama;
const greedy = { temperature: 0, maxGenLen: 8 };

beforeAll(async () => {
  const dir = await randomLlama3Checkpoint();
  llama = await Llama.build({
    ckptDir: dir,
    tokenizerPath: LLAMA3_TOKENIZER,
    backend: 'cpu',
    maxSeqLen: 128,
    maxBatchSize: 2,
  });
});

afterAll(() => llama.dispose());

describe('Llama.build', () => {
  it('refuses a tokenizer whose vocabulary does not match the model', async () => {
    const { sharedPath } = await import('@llama-ts/test-support');
    await expect(
      Llama.build({ ckptDir: sharedPath('golden', 'tiny-meta-bf16'), tokenizerPath: LLAMA3_TOKENIZER, backend: 'cpu' }),
    ).rejects.toThrow("the model's vocabulary (512) and the tokenizer's (128256) differ");
  });
});

describe('textCompletion and chatCompletion', () => {
  it('returns the reference completion objects', async () => {
    const [completion] = await llama.textCompletion(['I believe the meaning of life is'], {
      ...greedy,
      logprobs: true,
    });
    expect(typeof completion?.generation).toBe('string');
    expect(completion?.tokens).toHaveLength(completion?.tokenIds?.length ?? -1);
    expect(completion?.generation).toBe(llama.tokenizer.decode(completion?.tokenIds ?? []));
    const [chat] = await llama.chatCompletion(
      [[{ role: 'user', content: 'what is the recipe of mayonnaise?' }]],
      greedy,
    );
    expect(chat?.generation.role).toBe('assistant');
    expect(typeof chat?.generation.content).toBe('string');
  });

  it('names an unknown role', async () => {
    await expect(llama.chatCompletion([[{ role: 'bot', content: 'hi' } as never]], greedy)).rejects.toThrow(
      /dialog\[0\]\.role is "bot"/,
    );
  });
});

describe('ChatSession', () => {
  it('a second turn equals a fresh chatCompletion of the whole dialog, prefilling only the new part', async () => {
    const session = llama.chatSession({ system: 'Always answer with Haiku' });
    const first = await session.reply('I am going to Paris, what should I see?', greedy);
    const second = await session.reply('What is so great about #1?', greedy);
    const dialog = [
      { role: 'system' as const, content: 'Always answer with Haiku' },
      { role: 'user' as const, content: 'I am going to Paris, what should I see?' },
      { role: 'assistant' as const, content: first.text },
      { role: 'user' as const, content: 'What is so great about #1?' },
    ];
    const [fresh] = await llama.chatCompletion([dialog], greedy);
    expect(second.text).toBe(fresh?.generation.content);
    const fullPrompt = (llama.chatFormat as NonNullable<typeof llama.chatFormat>).encodeDialogPrompt(dialog).length;
    expect(second.usage.prefilledTokens).toBeLessThan(fullPrompt / 2);
    expect(second.usage.promptTokens).toBe(fullPrompt);
    expect(session.messages).toHaveLength(5);
  });

  it('falls back to a full prefill when another call used the cache', async () => {
    const session = llama.chatSession();
    await session.reply('Hello!', greedy);
    await llama.textCompletion(['unrelated'], greedy);
    const turn = await session.reply('And again?', greedy);
    expect(turn.usage.prefilledTokens).toBe(turn.usage.promptTokens);
  });

  it('refuses a dialog that fills the context', async () => {
    const session = llama.chatSession();
    await expect(session.reply('word '.repeat(200), greedy)).rejects.toThrow(GenerationError);
  });
});
