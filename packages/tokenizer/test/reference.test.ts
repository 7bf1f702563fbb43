// The expectations of the reference's llama/test_tokenizer.py and the constants of spec §2.1–2.2.
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatFormat, SPECIAL_TOKEN_NAMES, type Tokenizer } from '../src/index.js';
import { llama3Tokenizer } from './fixtures.js';

let tokenizer: Tokenizer;
beforeAll(async () => {
  tokenizer = await llama3Tokenizer();
});

describe('reference test_tokenizer.py', () => {
  it('test_special_tokens', () => {
    expect(tokenizer.specialTokens.get('<|begin_of_text|>')).toBe(128000);
  });

  it('test_encode', () => {
    expect(tokenizer.encode('This is a test sentence.', { bos: true, eos: true })).toEqual([
      128000, 2028, 374, 264, 1296, 11914, 13, 128001,
    ]);
  });

  it('test_decode', () => {
    expect(tokenizer.decode([128000, 2028, 374, 264, 1296, 11914, 13, 128001])).toBe(
      '<|begin_of_text|>This is a test sentence.<|end_of_text|>',
    );
  });

  it('test_encode_message', () => {
    const format = new ChatFormat(tokenizer);
    expect(format.encodeMessage({ role: 'user', content: 'This is a test sentence.' })).toEqual([
      128006, 882, 128007, 271, 2028, 374, 264, 1296, 11914, 13, 128009,
    ]);
  });

  it('test_encode_dialog', () => {
    const format = new ChatFormat(tokenizer);
    expect(
      format.encodeDialogPrompt([
        { role: 'system', content: 'This is a test sentence.' },
        { role: 'user', content: 'This is a response.' },
      ]),
    ).toEqual([
      128000, 128006, 9125, 128007, 271, 2028, 374, 264, 1296, 11914, 13, 128009, 128006, 882, 128007, 271, 2028, 374,
      264, 2077, 13, 128009, 128006, 78191, 128007, 271,
    ]);
  });
});

describe('constants', () => {
  it('has the reference ids', () => {
    expect(tokenizer.numBaseTokens).toBe(128000);
    expect(tokenizer.nWords).toBe(128256);
    expect(tokenizer.bosId).toBe(128000);
    expect(tokenizer.eosId).toBe(128001);
    expect(tokenizer.eotId).toBe(128009);
    expect(tokenizer.padId).toBe(-1);
    expect([...tokenizer.stopTokens].sort()).toEqual([128001, 128009]);
  });

  it('names the 256 special tokens as the llama3 repository does', () => {
    expect(SPECIAL_TOKEN_NAMES).toHaveLength(256);
    expect(new Set(SPECIAL_TOKEN_NAMES).size).toBe(256);
    const expected: Record<number, string> = {
      128000: '<|begin_of_text|>',
      128001: '<|end_of_text|>',
      128002: '<|reserved_special_token_0|>',
      128005: '<|reserved_special_token_3|>',
      128006: '<|start_header_id|>',
      128007: '<|end_header_id|>',
      128008: '<|reserved_special_token_4|>',
      128009: '<|eot_id|>',
      128010: '<|reserved_special_token_5|>',
      128255: '<|reserved_special_token_250|>',
    };
    for (const [id, name] of Object.entries(expected)) {
      expect(tokenizer.specialTokens.get(name)).toBe(Number(id));
      expect(tokenizer.decode([Number(id)])).toBe(name);
    }
    // For k >= 5, reserved_special_token_k has id 128005 + k.
    for (let k = 5; k <= 250; k++)
      expect(tokenizer.specialTokens.get(`<|reserved_special_token_${k}|>`)).toBe(128005 + k);
  });

  it('encodes the chat roles and the header separator with the reference ids', () => {
    expect(tokenizer.encode('user')).toEqual([882]);
    expect(tokenizer.encode('system')).toEqual([9125]);
    expect(tokenizer.encode('assistant')).toEqual([78191]);
    expect(tokenizer.encode('\n\n')).toEqual([271]);
  });
});
