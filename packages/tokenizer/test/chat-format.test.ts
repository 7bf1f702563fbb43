import { beforeAll, describe, expect, it } from 'vitest';
import { ChatFormat, type Message, type Tokenizer } from '../src/index.js';
import { llama3Tokenizer } from './fixtures.js';

let tokenizer: Tokenizer;
let format: ChatFormat;
beforeAll(async () => {
  tokenizer = await llama3Tokenizer();
  format = new ChatFormat(tokenizer);
});

describe('ChatFormat', () => {
  it('encodes a header as start, role, end, blank line', () => {
    expect(format.encodeHeader({ role: 'assistant' })).toEqual([128006, 78191, 128007, 271]);
  });

  it("strips content with Python's whitespace set, not JavaScript's trim()", () => {
    const body = tokenizer.encode('hello');
    // U+0085 and U+001C are Python whitespace; U+FEFF is not (JS trim() gets both wrong).
    expect(format.encodeMessage({ role: 'user', content: '\u0085\u001c hello \u3000' }).slice(4, -1)).toEqual(body);
    expect(format.encodeMessage({ role: 'user', content: '\ufeffhello' }).slice(4, -1)).toEqual(
      tokenizer.encode('\ufeffhello'),
    );
  });

  it('ends the prompt with an open assistant header', () => {
    const ids = format.encodeDialogPrompt([{ role: 'user', content: 'hi' }]);
    expect(ids[0]).toBe(tokenizer.bosId);
    expect(ids.slice(-4)).toEqual([128006, 78191, 128007, 271]);
  });

  it('names an unknown role and where it is', () => {
    expect(() => format.encodeMessage({ role: 'bot', content: 'x' } as unknown as Message)).toThrow(
      'ChatFormat.encodeMessage: message.role is "bot"; expected one of "system", "user", "assistant"',
    );
    const dialog = [
      { role: 'user', content: 'a' },
      { role: 'tool', content: 'b' },
    ] as unknown as Message[];
    expect(() => format.encodeDialogPrompt(dialog)).toThrow(/dialog\[1\]\.role is "tool"/);
  });

  it('rejects content that is not a string and a dialog that is not an array', () => {
    expect(() => format.encodeMessage({ role: 'user', content: 5 } as unknown as Message)).toThrow(
      /message\.content must be a string, got number 5/,
    );
    expect(() => format.encodeDialogPrompt({ role: 'user', content: 'x' } as never)).toThrow(/dialog must be an array/);
    expect(() => format.encodeDialogPrompt([null] as never)).toThrow(/dialog\[0\] must be an object/);
  });
});
