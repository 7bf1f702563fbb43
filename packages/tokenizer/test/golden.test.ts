// Every case of ../shared/data/llama3/tokenizer-golden.json (spec §2.9), including all of Tiny Shakespeare,
// for the tokenizer built from tokenizer.model and for the same vocabulary stored as byte-level BPE
// (a GGUF's tokenizer.ggml.* and Hugging Face's tokenizer.json, made here from tokenizer.model).

import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSharedJson, readSharedText } from '@llama-ts/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatFormat, type Message, type Tokenizer } from '../src/index.js';
import { loadAnyTokenizer } from '../src/node.js';
import { llama3HFTokenizerJSON, llama3Tokenizer, llama3TokenizerFromVocabulary } from './fixtures.js';

interface Golden {
  encode: { text: string; bos: boolean; eos: boolean; ids: number[] }[];
  encode_special: { text: string; allowed_special: 'all' | string[]; ids: number[] }[];
  encode_disallowed_raises: { text: string; disallowed_special: 'all' | string[] }[];
  decode: { ids: number[]; text: string }[];
  whole_piece_lookup: { cases: { piece: string; ids: number[] }[] };
  dialog: { dialog: Message[]; ids: number[] }[];
  examples: {
    text_completion: { prompt: string; ids: number[] }[];
    chat_completion: { dialog: Message[]; ids: number[] }[];
  };
  tiny_shakespeare: {
    chars: number;
    n_tokens: number;
    ids_sha256: string;
    first_64: number[];
    last_64: number[];
  };
}

const golden = readSharedJson<Golden>('data', 'llama3', 'tokenizer-golden.json');
const label = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…(${text.length})` : text);

const SOURCES = {
  'tokenizer.model': llama3Tokenizer,
  'GGUF-style byte-level vocabulary': async () => llama3TokenizerFromVocabulary(),
  'tokenizer.json': async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'llama-ts-hf-')), 'tokenizer.json');
    await writeFile(path, JSON.stringify(llama3HFTokenizerJSON()));
    return (await loadAnyTokenizer(path)) as Tokenizer;
  },
} as const;

describe.each(Object.keys(SOURCES) as (keyof typeof SOURCES)[])('from %s', (source) => {
  let tokenizer: Tokenizer;
  let chat: ChatFormat;
  beforeAll(async () => {
    tokenizer = await SOURCES[source]();
    chat = new ChatFormat(tokenizer);
  });

  describe('golden encode', () => {
    it.each(golden.encode.map((c) => [label(c.text), c] as const))('%s', (_, c) => {
      expect(tokenizer.encode(c.text, { bos: c.bos, eos: c.eos })).toEqual(c.ids);
    });
  });

  describe('golden encode with allowed special tokens', () => {
    it.each(golden.encode_special.map((c) => [label(c.text), JSON.stringify(c.allowed_special), c] as const))(
      '%s allowing %s',
      (_, __, c) => {
        expect(tokenizer.encode(c.text, { allowedSpecial: c.allowed_special })).toEqual(c.ids);
      },
    );

    it.each(golden.encode_disallowed_raises.map((c) => [label(c.text), c] as const))(
      '%s with disallowed specials raises',
      (_, c) => {
        expect(() => tokenizer.encode(c.text, { disallowedSpecial: c.disallowed_special })).toThrow(
          /disallowedSpecial/,
        );
      },
    );
  });

  describe('golden decode', () => {
    it.each(golden.decode.map((c) => [JSON.stringify(c.ids), c] as const))('%s', (_, c) => {
      expect(tokenizer.decode(c.ids)).toBe(c.text);
    });
  });

  describe('whole-piece lookup before merging', () => {
    it.each(golden.whole_piece_lookup.cases.map((c) => [label(c.piece), c] as const))('%s', (_, c) => {
      expect(tokenizer.encode(c.piece)).toEqual(c.ids);
    });
  });

  describe('golden dialogs', () => {
    it.each(golden.dialog.map((c, i) => [i, c] as const))('dialog %i', (_, c) => {
      expect(chat.encodeDialogPrompt(c.dialog)).toEqual(c.ids);
    });
  });

  describe('example prompts', () => {
    it.each(golden.examples.text_completion.map((c) => [label(c.prompt), c] as const))('text completion %s', (_, c) => {
      expect(tokenizer.encode(c.prompt, { bos: true })).toEqual(c.ids);
    });
    it.each(golden.examples.chat_completion.map((c, i) => [i, c] as const))('chat completion dialog %i', (_, c) => {
      expect(chat.encodeDialogPrompt(c.dialog)).toEqual(c.ids);
    });
  });

  // (once per route to the rank table: tokenizer.json reaches the same table as the GGUF-style vocabulary)
  const shakespeare = source === 'tokenizer.json' ? () => undefined : describe;
  shakespeare('Tiny Shakespeare', () => {
    it('encodes to the reference ids, with the 400,000-character chunking', () => {
      const text = readSharedText('data', 'tiny_shakespeare.txt');
      expect(text.length).toBe(golden.tiny_shakespeare.chars);
      const ids = tokenizer.encode(text);
      const expected = golden.tiny_shakespeare;
      expect(ids.length).toBe(expected.n_tokens);
      expect(ids.slice(0, 64)).toEqual(expected.first_64);
      expect(ids.slice(-64)).toEqual(expected.last_64);
      expect(createHash('sha256').update(ids.join(',')).digest('hex')).toBe(expected.ids_sha256);
      expect(tokenizer.decode(ids)).toBe(text);
    });
  });
});
