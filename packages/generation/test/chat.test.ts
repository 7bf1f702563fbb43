// textCompletion, chatCompletion and ChatSession with the real Llama 3 tokenizer, on a small random
// model with Llama 3's vocabulary (built through Llama.build, as an app would).
import type { Tokenizer } from '@llama-ts/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Llama, type StreamSummary } from '../src/index.js';
import { LLAMA3_TOKENIZER, randomLlama3Checkpoint } from './fixtures.js';
import { maxAbsDiff, RecordingModel } from './recording-model.js';

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
    await expect(session.reply('word '.repeat(200), greedy)).rejects.toThrow(
      /the dialog is \d+ tokens, which fills the context \(maxSeqLen 128\); reset\(\) or start a new session, or use contextShift/,
    );
  });

  it('with contextShift the dialog outgrows the context: the cache keeps the system message and the latest tokens, and every pass equals a fresh prefill of them', async () => {
    const recording = new RecordingModel(llama.model);
    const shifting = new Llama(recording, llama.tokenizer);
    const system = 'Always answer with Haiku';
    const session = shifting.chatSession({ system });
    const options = { temperature: 0, maxGenLen: 40, contextShift: true };
    const turns: StreamSummary[] = [];
    for (const question of [
      'I am going to Paris, what should I see?',
      'What is so great about #1?',
      'And #2?',
      'And #3?',
      'Thanks!',
    ]) {
      turns.push(await session.reply(question, options));
    }
    const dialog = (llama.chatFormat as NonNullable<typeof llama.chatFormat>).encodeDialogPrompt(session.messages);
    expect(dialog.length).toBeGreaterThan(128 + 40);
    expect(turns.reduce((sum, turn) => sum + turn.usage.contextShifts, 0)).toBeGreaterThan(0);
    // A turn after a shift continues from the shifted cache: it prefills about its own message, not
    // the recent half of the context that a prompt too long for it would get.
    const afterShift = turns.findIndex((_turn, i) => i > 0 && (turns[i - 1]?.usage.contextShifts ?? 0) > 0);
    expect(afterShift).toBeGreaterThan(0);
    expect(turns[afterShift]?.usage.prefilledTokens).toBeLessThan((turns[afterShift]?.usage.promptTokens ?? 0) / 3);
    // bos and the system message (up to its <|eot_id|>) stay first in the cache.
    const systemTokens = dialog.slice(0, dialog.indexOf((llama.tokenizer as Tokenizer).eotId) + 1);
    const vocab = llama.model.args.vocabSize;
    const passes = recording.passes;
    const cachedBefore = (i: number) => passes[i - 1]?.contexts[0]?.length ?? 0;
    // Passes that do not append to the cache's end (a turn's start, a shift), and the ones after them.
    const jumps = passes.flatMap((pass, i) => (i === 0 || pass.startPos !== cachedBefore(i) ? [i] : []));
    const shiftPasses = passes.filter((pass, i) => i > 0 && (pass.contexts[0]?.length ?? 0) <= cachedBefore(i));
    expect(shiftPasses).toHaveLength(turns.reduce((sum, turn) => sum + turn.usage.contextShifts, 0));
    for (const [i, pass] of passes.entries()) {
      const context = pass.contexts[0] as number[];
      expect(context.length).toBeLessThanOrEqual(128);
      expect(context.slice(0, systemTokens.length), `pass ${i}`).toEqual(systemTokens);
    }
    for (const i of new Set(jumps.flatMap((i) => [i, i + 1]))) {
      const pass = passes[i];
      if (!pass) continue;
      const context = pass.contexts[0] as number[];
      // Slot 1 is free: a fresh prefill there leaves the session's cache in slot 0 alone.
      const fresh = await llama.model.forward([context], 0, { slot: 1 });
      expect(maxAbsDiff(pass.last[0] as Float32Array, fresh.subarray(0, vocab)), `pass ${i}`).toBe(0);
    }
  });
});
