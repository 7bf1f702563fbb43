// Byte-level BPE vocabularies (GGUF's tokenizer.ggml.*, Hugging Face's tokenizer.json): the
// byte-level alphabet, the ids of special tokens, and every malformed vocabulary named in one line.
// (That they give exactly the tiktoken ids of Llama 3 is golden.test.ts.)
import { describe, expect, it } from 'vitest';
import {
  byteLevelDecode,
  byteLevelEncode,
  Tokenizer,
  TokenizerError,
  UnsupportedTokenizerError,
  vocabularyFromHFTokenizerJSON,
} from '../src/index.js';
import { llama3ByteLevelVocabulary, llama3HFTokenizerJSON, llama3TokenizerFromVocabulary } from './fixtures.js';

describe('the byte-level alphabet', () => {
  it('maps all 256 bytes to distinct printable characters and back', () => {
    const all = Uint8Array.from({ length: 256 }, (_, b) => b);
    const text = byteLevelEncode(all);
    expect(new Set(text).size).toBe(256);
    expect(byteLevelEncode(Uint8Array.of(0x20, 0x0a, 0x41))).toBe('ĠĊA');
    expect(byteLevelDecode(text)).toEqual(all);
    expect(byteLevelDecode('a€')).toBeUndefined();
  });
});

describe('special tokens and ids', () => {
  it('takes bos/eos/eot from the vocabulary, and stops on every end token it has', () => {
    const tokenizer = llama3TokenizerFromVocabulary();
    expect([tokenizer.nWords, tokenizer.numBaseTokens, tokenizer.bosId, tokenizer.eosId, tokenizer.eotId]).toEqual([
      128256, 128000, 128000, 128001, 128009,
    ]);
    expect([...tokenizer.stopTokens].sort()).toEqual([128001, 128009]);
    expect(tokenizer.specialTokens.get('<|start_header_id|>')).toBe(128006);
    expect(tokenizer.decode([128006, 882, 128007])).toBe('<|start_header_id|>user<|end_header_id|>');
  });

  it('an instruct GGUF whose eos is <|eot_id|> still stops on <|end_of_text|>', () => {
    const { tokens, tokenTypes } = llama3ByteLevelVocabulary();
    const tokenizer = Tokenizer.fromBPEVocabulary({ tokens, tokenTypes, eosId: 128009, source: 'x' });
    expect(tokenizer.eosId).toBe(128009);
    expect([...tokenizer.stopTokens].sort()).toEqual([128001, 128009]);
  });
});

describe('malformed vocabularies', () => {
  const small = () => {
    const bytes = Array.from({ length: 256 }, (_, b) => byteLevelEncode(Uint8Array.of(b)));
    return {
      tokens: [...bytes, 'ab', 'abc', '<|begin_of_text|>', '<|end_of_text|>'],
      tokenTypes: [...bytes.map(() => 1), 1, 1, 3, 3],
      source: 'small.gguf',
    };
  };
  const fails = (vocabulary: Parameters<typeof Tokenizer.fromBPEVocabulary>[0], message: RegExp) => {
    expect(() => Tokenizer.fromBPEVocabulary(vocabulary)).toThrow(TokenizerError);
    expect(() => Tokenizer.fromBPEVocabulary(vocabulary)).toThrow(message);
  };

  it('accepts a small well-formed one', () => {
    const tokenizer = Tokenizer.fromBPEVocabulary({ ...small(), merges: ['a b', 'ab c'] });
    expect(tokenizer.encode('abc abd', { bos: true })).toEqual([258, 257, 32, 256, 100]);
    expect(tokenizer.decode([258, 257, 32, 256, 100])).toBe('<|begin_of_text|>abc abd');
  });

  it('names a token outside the byte-level alphabet, a duplicate, a missing byte', () => {
    const v = small();
    v.tokens[257] = 'a€';
    fails(v, /small\.gguf: token 257 "a€" is not byte-level BPE text/);
    const dup = small();
    dup.tokens[257] = 'ab';
    fails(dup, /small\.gguf: token 257 "ab" appears twice/);
    const gap = small();
    gap.tokens[65] = 'xyz';
    fails(gap, /lacks the single byte 0x41 \("A"\)/);
  });

  it('names merges that are not in the order of the ids they make, or join unknown tokens', () => {
    fails({ ...small(), merges: ['ab c', 'a b'] }, /merge 1 \("a b"\) makes token 256 after a merge made token 257/);
    fails({ ...small(), merges: ['a z'] }, /merge 0 \("a z"\) joins tokens that are not all in the vocabulary/);
    fails({ ...small(), merges: ['abc'] }, /merge 0 \("abc"\) is not two tokens separated by a space/);
  });

  it('names bad special ids and mismatched types', () => {
    fails({ ...small(), bosId: 9999 }, /the begin-of-text id is 9999; expected a token id below 260/);
    fails({ ...small(), tokenTypes: [1, 2] }, /2 token types for 260 tokens/);
    const noBos = small();
    noBos.tokens[258] = '<s>';
    fails(noBos, /the begin-of-text id is undefined/);
  });

  it('refuses a tokenizer.json that is not a BPE with Llama 3 pre-tokenizer', () => {
    const json = llama3HFTokenizerJSON() as { model: { type: string }; pre_tokenizer: unknown };
    expect(() => vocabularyFromHFTokenizerJSON({ ...json, model: { type: 'Unigram' } }, 'tokenizer.json')).toThrow(
      /tokenizer\.json is a Hugging Face tokenizers file .*; field "model\.type" is "Unigram", not "BPE"/,
    );
    expect(() =>
      vocabularyFromHFTokenizerJSON({ ...json, pre_tokenizer: { type: 'ByteLevel' } }, 'tokenizer.json'),
    ).toThrow(UnsupportedTokenizerError);
    expect(() =>
      vocabularyFromHFTokenizerJSON({ ...json, pre_tokenizer: { type: 'ByteLevel' } }, 'tokenizer.json'),
    ).toThrow(/does not split with Llama 3's regex/);
  });
});
