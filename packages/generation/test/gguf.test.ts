// A GGUF file with Llama 3's vocabulary opens with its own tokenizer and chat template: the same
// ids, completions and chats as the same weights in a Meta folder with tokenizer.model; other
// vocabularies and chat templates are refused naming the key.

import { ggufValue } from '@llama-ts/model';
import { sharedPath } from '@llama-ts/test-support';
import { loadTokenizer } from '@llama-ts/tokenizer/node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GenerationError, Llama, recogniseChatTemplate } from '../src/index.js';
import {
  ggufFromCheckpoint,
  LLAMA2_CHAT_TEMPLATE,
  LLAMA3_CHAT_TEMPLATE,
  LLAMA3_TOKENIZER,
  LLAMA31_CHAT_TEMPLATE,
  llama3TokenizerMetadata,
  MISTRAL_CHAT_TEMPLATE,
  randomLlama3Checkpoint,
} from './fixtures.js';

// Each case writes and opens a GGUF with the 128256-token vocabulary and its 280k merges: seconds each.
vi.setConfig({ testTimeout: 120_000 });

let dir: string;
let reference: Llama;
let fromGGUF: Llama;
const greedy = { temperature: 0, maxGenLen: 8, logprobs: true };
const build = (ckptDir: string, extra: object = {}) =>
  Llama.build({ ckptDir, backend: 'cpu', maxSeqLen: 128, ...extra });

beforeAll(async () => {
  dir = await randomLlama3Checkpoint();
  reference = await build(dir, { tokenizerPath: LLAMA3_TOKENIZER });
  fromGGUF = await build(await ggufFromCheckpoint(dir, llama3TokenizerMetadata()));
}, 300_000); // several models and the vocabulary

afterAll(() => {
  reference.dispose();
  fromGGUF.dispose();
});

describe('a GGUF with a Llama 3 vocabulary', () => {
  it('encodes as tokenizer.model does, with the file’s special ids', async () => {
    const tiktoken = await loadTokenizer(LLAMA3_TOKENIZER);
    const text = 'The capital of France is Paris. 巴黎 😀\n\n  x  <|eot_id|>';
    expect(fromGGUF.tokenizer.encode(text, { bos: true })).toEqual(tiktoken.encode(text, { bos: true }));
    expect(fromGGUF.tokenizer.nWords).toBe(128256);
    // the file says eos 128009 (an instruct model's): both end tokens stop generation
    expect(fromGGUF.tokenizer.eosId).toBe(128009);
    expect([...fromGGUF.tokenizer.stopTokens].sort()).toEqual([128001, 128009]);
  });

  it('completes and chats as the same weights with tokenizer.model: same tokens, log-probs to float rounding', async () => {
    // (GGUF stores the RMSNorm epsilon as an f32, which moves log-probs by ~1e-6)
    const same = (got: { tokenIds?: number[]; logprobs?: number[] }[], want: typeof got) => {
      expect(got.map((c) => c.tokenIds)).toEqual(want.map((c) => c.tokenIds));
      for (const [i, completion] of got.entries()) {
        for (const [j, p] of (completion.logprobs ?? []).entries()) {
          expect(p).toBeCloseTo(want[i]?.logprobs?.[j] as number, 4);
        }
      }
    };
    const prompts = ['I believe the meaning of life is'];
    const text = await fromGGUF.textCompletion(prompts, greedy);
    same(text, await reference.textCompletion(prompts, greedy));
    expect(text[0]?.generation).toBe(reference.tokenizer.decode(text[0]?.tokenIds ?? []));
    const dialogs = [
      [
        { role: 'system' as const, content: 'Be brief.' },
        { role: 'user' as const, content: 'Hi!' },
      ],
    ];
    const chat = await fromGGUF.chatCompletion(dialogs, greedy);
    same(chat, await reference.chatCompletion(dialogs, greedy));
    expect(chat[0]?.usage.promptTokens).toBe(reference.chatFormat?.encodeDialogPrompt(dialogs[0] ?? []).length);
  });

  it('runs a chat session', async () => {
    const session = fromGGUF.chatSession();
    const first = await session.reply('Hello', { temperature: 0, maxGenLen: 4 });
    const second = await session.reply('And then?', { temperature: 0, maxGenLen: 4 });
    expect(second.usage.promptTokens).toBeGreaterThan(first.usage.promptTokens);
  });

  it('as Q8_0 too (same tokenizer, nearby log-probs)', async () => {
    const q8 = await build(await ggufFromCheckpoint(dir, llama3TokenizerMetadata(), 'Q8_0'));
    try {
      const [got] = await q8.textCompletion(['Hello'], { temperature: 0, maxGenLen: 1, logprobs: true });
      const [want] = await reference.textCompletion(['Hello'], { temperature: 0, maxGenLen: 1, logprobs: true });
      expect(got?.tokenIds).toEqual(want?.tokenIds);
    } finally {
      q8.dispose();
    }
  });

  it('follows add_bos_token', async () => {
    const path = await ggufFromCheckpoint(
      dir,
      llama3TokenizerMetadata({ 'tokenizer.ggml.add_bos_token': ggufValue.bool(false) }),
      'Q8_0',
    );
    const noBos = await build(path);
    try {
      const [without] = await noBos.textCompletion(['Hello'], { temperature: 0, maxGenLen: 1 });
      const [withBos] = await fromGGUF.textCompletion(['Hello'], { temperature: 0, maxGenLen: 1 });
      expect(without?.usage.promptTokens).toBe((withBos?.usage.promptTokens ?? 0) - 1);
    } finally {
      noBos.dispose();
    }
  });
});

describe('chat templates', () => {
  it('recognises Llama 3’s, 3.1’s and Llama 2’s (the models’ real templates), and no other', () => {
    expect(recogniseChatTemplate(LLAMA3_CHAT_TEMPLATE)).toBe('llama3');
    expect(recogniseChatTemplate(LLAMA31_CHAT_TEMPLATE)).toBe('llama3');
    expect(recogniseChatTemplate(LLAMA2_CHAT_TEMPLATE)).toBe('llama2');
    expect(recogniseChatTemplate(MISTRAL_CHAT_TEMPLATE)).toBeUndefined();
    expect(recogniseChatTemplate('{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}')).toBeUndefined();
  });

  it('Llama 3.1’s template chats in Llama 3’s format', async () => {
    const path = await ggufFromCheckpoint(
      dir,
      llama3TokenizerMetadata({ 'tokenizer.chat_template': ggufValue.string(LLAMA31_CHAT_TEMPLATE) }),
      'Q8_0',
    );
    const llama = await build(path);
    try {
      const dialog = [{ role: 'user' as const, content: 'hi' }];
      expect(llama.chatFormat?.encodeDialogPrompt(dialog)).toEqual(fromGGUF.chatFormat?.encodeDialogPrompt(dialog));
    } finally {
      llama.dispose();
    }
  });

  it.each([
    [
      'another model’s',
      '<|im_start|>{{ message.content }}<|im_end|>',
      /chat template \(tokenizer\.chat_template\) is neither Llama 3's nor Llama 2's/,
    ],
    [
      'Mistral’s',
      MISTRAL_CHAT_TEMPLATE,
      /chat template \(tokenizer\.chat_template\) is neither Llama 3's nor Llama 2's/,
    ],
    [
      'Llama 2’s (with a Llama 3 vocabulary)',
      LLAMA2_CHAT_TEMPLATE,
      /chat template \(tokenizer\.chat_template\) is Llama 2's \(\[INST\] <<SYS>> … \[\/INST\]\), but its vocabulary is Llama 3's/,
    ],
  ])('refuses chat under %s template in one line, while complete works', async (_, template, message) => {
    const path = await ggufFromCheckpoint(
      dir,
      llama3TokenizerMetadata({ 'tokenizer.chat_template': ggufValue.string(template) }),
      'Q8_0',
    );
    const llama = await build(path);
    try {
      expect(llama.chatFormat).toBeUndefined();
      expect(llama.chatUnavailable?.because).toBe('template');
      await expect(llama.chatCompletion([[{ role: 'user', content: 'hi' }]])).rejects.toThrow(message);
      await expect(llama.chatCompletion([[{ role: 'user', content: 'hi' }]])).rejects.toThrow(GenerationError);
      expect((await llama.textCompletion(['hi'], { temperature: 0, maxGenLen: 1 })).length).toBe(1);
    } finally {
      llama.dispose();
    }
  });
});

describe('vocabularies llama-ts cannot read', () => {
  it.each([
    [
      { 'tokenizer.ggml.model': ggufValue.string('bert') },
      /"tokenizer\.ggml\.model" is "bert"; llama-ts reads "gpt2" \(Llama 3's byte-level BPE\) and "llama"/,
    ],
    [
      { 'tokenizer.ggml.pre': ggufValue.string('qwen2') },
      /"tokenizer\.ggml\.pre" is "qwen2"; only Llama 3's pre-tokenizer/,
    ],
  ])('%o is refused naming the key and the file (with ids, the model opens with a note)', async (override, message) => {
    // (refused before the tokens are read: the file needs no vocabulary)
    const path = await ggufFromCheckpoint(
      dir,
      {
        'tokenizer.ggml.model': ggufValue.string('gpt2'),
        'tokenizer.ggml.pre': ggufValue.string('llama-bpe'),
        ...override,
      },
      'Q8_0',
    );
    await expect(build(path)).rejects.toThrow(message);
    await expect(build(path)).rejects.toThrow(path);
    const notes: string[] = [];
    const ids = await build(path, { withoutTokenizer: 'ids', log: (note: string) => notes.push(note) });
    expect(ids.hasTokenizer).toBe(false);
    ids.dispose();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(message);
    expect(notes[0]).toMatch(/; driving the model with token ids$/);
  });

  it('a GGUF without a tokenizer opens with ids, or takes --tokenizer', async () => {
    const path = await ggufFromCheckpoint(dir, {}, 'Q8_0');
    await expect(build(path)).rejects.toThrow(/has no tokenizer \(tokenizer\.ggml\.\*\)/);
    const ids = await build(path, { withoutTokenizer: 'ids' });
    expect(ids.hasTokenizer).toBe(false);
    ids.dispose();
    const withTokenizer = await build(path, { tokenizerPath: LLAMA3_TOKENIZER });
    expect(withTokenizer.chatFormat).toBeDefined();
    withTokenizer.dispose();
    expect(sharedPath('data')).toBeTruthy();
  });
});
