// Llama 2's chat prompt, string for string as its reference chat_completion builds it, and the
// dialogs it refuses.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Dialog,
  dialogFormatFor,
  Llama2ChatFormat,
  type SentencePieceTokenizer,
  type TextTokenizer,
  TokenizerError,
  tokenizerFamily,
} from '../src/index.js';
import { llama3Tokenizer, sentencePieceTokenizer } from './fixtures.js';

/** A tokenizer that records what it is asked to encode, so the prompt's text can be checked exactly. */
function recordingTokenizer() {
  const calls: { text: string; bos: boolean; eos: boolean }[] = [];
  const tokenizer: TextTokenizer = {
    nWords: 10,
    bosId: 1,
    eosId: 2,
    padId: -1,
    stopTokens: new Set([2]),
    encode(text, options = {}) {
      calls.push({ text, bos: options.bos === true, eos: options.eos === true });
      return [...(options.bos ? [1] : []), 5, ...(options.eos ? [2] : [])];
    },
    decode: () => '',
    streamDecoder: () => ({ push: () => '', end: () => '' }),
  };
  return { tokenizer, calls };
}

function promptOf(dialog: Dialog) {
  const { tokenizer, calls } = recordingTokenizer();
  new Llama2ChatFormat(tokenizer).encodeDialogPrompt(dialog);
  return calls;
}

describe('Llama2ChatFormat prompt', () => {
  it('one user message', () => {
    expect(promptOf([{ role: 'user', content: '  what is the recipe of mayonnaise? \n' }])).toEqual([
      { text: '[INST] what is the recipe of mayonnaise? [/INST]', bos: true, eos: false },
    ]);
  });

  it('a system message folds into the first user message, unstripped inside the tags', () => {
    expect(
      promptOf([
        { role: 'system', content: ' Always answer with Haiku ' },
        { role: 'user', content: 'I am going to Paris, what should I see?' },
      ]),
    ).toEqual([
      {
        text: '[INST] <<SYS>>\n Always answer with Haiku \n<</SYS>>\n\nI am going to Paris, what should I see? [/INST]',
        bos: true,
        eos: false,
      },
    ]);
  });

  it('several turns: each pair is bos … eos, the last user turn is open', () => {
    expect(
      promptOf([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: ' Hello! \n' },
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: '4' },
        { role: 'user', content: 'And 3+3?' },
      ]),
    ).toEqual([
      { text: '[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! ', bos: true, eos: true },
      { text: '[INST] What is 2+2? [/INST] 4 ', bos: true, eos: true },
      { text: '[INST] And 3+3? [/INST]', bos: true, eos: false },
    ]);
  });

  it('gives the ids of the real tokenizer', async () => {
    const tokenizer = await sentencePieceTokenizer();
    const ids = new Llama2ChatFormat(tokenizer).encodeDialogPrompt([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
      { role: 'user', content: 'Bye' },
    ]);
    expect(ids).toEqual([
      ...tokenizer.encode('[INST] Hi [/INST] Hello ', { bos: true, eos: true }),
      ...tokenizer.encode('[INST] Bye [/INST]', { bos: true }),
    ]);
    expect(ids[0]).toBe(tokenizer.bosId);
    expect(ids.filter((id) => id === tokenizer.eosId)).toHaveLength(1);
  });
});

describe('Llama2ChatFormat refuses', () => {
  const format = new Llama2ChatFormat(recordingTokenizer().tokenizer);
  const refusal = (dialog: unknown) => {
    try {
      format.encodeDialogPrompt(dialog as Dialog);
    } catch (error) {
      expect(error).toBeInstanceOf(TokenizerError);
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it.each(['[INST]', '[/INST]', '<<SYS>>', '<</SYS>>'])('a message containing %s', (tag) => {
    expect(refusal([{ role: 'user', content: `please ${tag} obey` }])).toBe(
      `Llama2ChatFormat.encodeDialogPrompt: dialog[0].content contains ${tag}; Llama 2 chat refuses messages containing [INST], [/INST], <<SYS>>, <</SYS>>`,
    );
    expect(
      refusal([
        { role: 'system', content: tag },
        { role: 'user', content: 'hi' },
      ]),
    ).toMatch(/dialog\[0\]\.content contains/);
  });

  it('roles that do not alternate, or do not end with the user', () => {
    const order =
      "Llama 2 chat takes an optional 'system' message first, then 'user' and 'assistant' alternating, ending with 'user'";
    expect(
      refusal([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ]),
    ).toBe(`Llama2ChatFormat.encodeDialogPrompt: dialog[1].role is "user" where "assistant" was expected; ${order}`);
    expect(
      refusal([
        { role: 'system', content: 's' },
        { role: 'user', content: 'a' },
        { role: 'system', content: 'b' },
      ]),
    ).toMatch(/dialog\[2\]\.role is "system" where "assistant" was expected/);
    expect(refusal([{ role: 'assistant', content: 'a' }])).toMatch(/dialog\[0\]\.role is "assistant" where "user"/);
    expect(
      refusal([
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
      ]),
    ).toBe(`Llama2ChatFormat.encodeDialogPrompt: dialog ends with an assistant message; ${order}`);
    expect(refusal([])).toMatch(/dialog is empty/);
    expect(refusal([{ role: 'system', content: 's' }])).toMatch(/has only a system message/);
    expect(refusal([{ role: 'bot', content: 's' }])).toMatch(
      /dialog\[0\]\.role is "bot"; expected "system", "user" or "assistant"/,
    );
    expect(refusal([{ role: 'user', content: 3 }])).toMatch(/dialog\[0\]\.content must be a string/);
  });
});

describe('dialogFormatFor and tokenizerFamily', () => {
  let sentencePiece: SentencePieceTokenizer;
  beforeAll(async () => {
    sentencePiece = await sentencePieceTokenizer();
  });

  it("pick Llama 2's format for SentencePiece and Llama 3's for tiktoken", async () => {
    const llama3 = await llama3Tokenizer();
    expect(tokenizerFamily(sentencePiece)).toBe('llama2');
    expect(tokenizerFamily(llama3)).toBe('llama3');
    expect(dialogFormatFor(sentencePiece)).toBeInstanceOf(Llama2ChatFormat);
    expect(dialogFormatFor(llama3)?.constructor.name).toBe('ChatFormat');
    expect(dialogFormatFor(recordingTokenizer().tokenizer)).toBeUndefined();
    expect(tokenizerFamily(recordingTokenizer().tokenizer)).toBeUndefined();
  });
});
