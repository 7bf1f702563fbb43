import { readSharedText } from '@llama-ts/test-support';
import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../src/index.js';

const corpus = readSharedText('data', 'tiny_shakespeare.txt');

describe('CharTokenizer on Tiny Shakespeare', () => {
  const tokenizer = CharTokenizer.fromCorpus(corpus);

  it('has 65 characters plus the three special tokens', () => {
    expect(tokenizer.vocabSize).toBe(68);
    expect(tokenizer.nWords).toBe(68);
    expect(tokenizer.vocab.slice(0, 2)).toEqual(['\n', ' ']);
    expect(tokenizer.vocab.slice(-3)).toEqual(['<|begin_of_text|>', '<|end_of_text|>', '<|pad_id|>']);
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.padId]).toEqual([65, 66, 67]);
    expect([...tokenizer.stopTokens]).toEqual([66]);
  });

  it('encodes "Hello World" as the reference recipe does', () => {
    expect(tokenizer.encode('Hello World')).toEqual([20, 43, 50, 50, 53, 1, 35, 53, 56, 50, 42]);
    expect(tokenizer.encode('Hi', { bos: true, eos: true })).toEqual([65, 20, 47, 66]);
  });

  it('round-trips the corpus', () => {
    expect(tokenizer.decode(tokenizer.encode(corpus))).toBe(corpus);
  });

  it('round-trips through JSON', () => {
    const restored = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer)));
    expect(restored.vocab).toEqual(tokenizer.vocab);
    expect(restored.encode('Hello World')).toEqual(tokenizer.encode('Hello World'));
  });

  it('names an unknown character and its position', () => {
    expect(() => tokenizer.encode('Hi 😀')).toThrow(
      'CharTokenizer.encode: character "😀" (U+1F600) at position 3 is not in the vocabulary',
    );
  });

  it('names an unknown id', () => {
    expect(() => tokenizer.decode([1, 68])).toThrow(/ids\[1\] is number 68; expected an integer token id in 0..67/);
  });

  it('streams one character per token', () => {
    const decoder = tokenizer.streamDecoder();
    expect(tokenizer.encode('Hi!').map((id) => decoder.push(id))).toEqual(['H', 'i', '!']);
    expect(decoder.end()).toBe('');
  });
});

describe('CharTokenizer vocabulary', () => {
  it('sorts characters by code point, astral ones included, and counts them as one token each', () => {
    const tokenizer = CharTokenizer.fromCorpus('b😀a\uffff');
    expect(tokenizer.vocab.slice(0, 4)).toEqual(['a', 'b', '\uffff', '😀']);
    expect(tokenizer.encode('😀a')).toEqual([3, 0]);
  });

  it('rejects malformed JSON with the field at fault', () => {
    expect(() => CharTokenizer.fromJSON({ format: 'other' })).toThrow(/field "format"/);
    expect(() => CharTokenizer.fromJSON({ format: 'llama-ts/char-tokenizer', version: 9, vocab: [] })).toThrow(
      /field "version" is number 9/,
    );
    expect(() =>
      CharTokenizer.fromJSON({
        format: 'llama-ts/char-tokenizer',
        version: 1,
        vocab: ['a', 'bc', '<|begin_of_text|>', '<|end_of_text|>', '<|pad_id|>'],
      }),
    ).toThrow(/vocab\[1\] is "bc"; expected a single character/);
    expect(() =>
      CharTokenizer.fromJSON({ format: 'llama-ts/char-tokenizer', version: 1, vocab: ['a', 'b', 'c', 'd'] }),
    ).toThrow(/expected <\|begin_of_text\|>/);
  });
});
