// A GGUF with a SentencePiece vocabulary (tokenizer.ggml.model "llama", Llama 1/2's) opens with its
// own tokenizer: the vocabulary llama.cpp's converter writes from ../shared's tokenizer.model gives
// exactly the sentencepiece library's golden ids; a Llama 2 model in GGUF completes and chats
// (Llama 2's template → Llama2ChatFormat) as the same weights in a Meta folder.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GGUFMetadataToWrite, GGUFValueType, ggufValue, writeGGUF } from '@llama-ts/model';
import { readSharedJson, readSharedText } from '@llama-ts/test-support';
import { Llama2ChatFormat, SentencePieceTokenizer } from '@llama-ts/tokenizer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Llama, tokenizerFromGGUF } from '../src/index.js';
import { ggufFromCheckpoint, randomLlama2Checkpoint, sentencePieceTokenizerMetadata } from './fixtures.js';

vi.setConfig({ testTimeout: 120_000 });

interface Golden {
  cases: { text: string; ids: number[]; decoded: string }[];
  tiny_shakespeare: { n_ids: number; sha256_of_ids_joined_by_comma: string; first_40: number[] };
}
const golden = readSharedJson<Golden>('data', 'sentencepiece', 'sentencepiece-golden.json');

let scratch: string;
/** A GGUF holding only `metadata` (a vocabulary needs no tensors). */
async function vocabularyGGUF(name: string, metadata: GGUFMetadataToWrite): Promise<string> {
  const path = join(scratch, `${name}.gguf`);
  await writeGGUF(path, { metadata, tensors: [] });
  return path;
}

let tokenizer: SentencePieceTokenizer;
let folder: string;
let fromFolder: Llama;
let fromGGUF: Llama;
const build = (ckptDir: string) => Llama.build({ ckptDir, backend: 'cpu', maxSeqLen: 128 });

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'llama-ts-gguf-spm-'));
  const opened = await tokenizerFromGGUF(await vocabularyGGUF('vocabulary', await sentencePieceTokenizerMetadata()));
  tokenizer = opened?.tokenizer as SentencePieceTokenizer;
  folder = await randomLlama2Checkpoint();
  fromFolder = await build(folder);
  const sizes = { vocabSize: 4096, family: 'llama2' as const };
  fromGGUF = await build(await ggufFromCheckpoint(folder, await sentencePieceTokenizerMetadata(), 'F32', sizes));
}, 300_000);

afterAll(async () => {
  fromFolder?.dispose();
  fromGGUF?.dispose();
  await rm(scratch, { recursive: true, force: true });
  await rm(folder, { recursive: true, force: true });
});

describe('tokenizer.ggml.* with model "llama"', () => {
  it('is the SentencePiece tokenizer with the file’s special ids and Llama’s settings', () => {
    expect(tokenizer).toBeInstanceOf(SentencePieceTokenizer);
    expect([tokenizer.nWords, tokenizer.unkId, tokenizer.bosId, tokenizer.eosId]).toEqual([4096, 0, 1, 2]);
    expect(tokenizer.settings).toMatchObject({
      addDummyPrefix: true,
      removeExtraWhitespaces: false,
      byteFallback: true,
    });
  });

  it.each(golden.cases.map((c) => [JSON.stringify(c.text.slice(0, 40)), c] as const))(
    'encodes %s as sentencepiece does',
    (_, c) => {
      expect(tokenizer.encode(c.text)).toEqual(c.ids);
      expect(tokenizer.decode(c.ids)).toBe(c.decoded);
    },
  );

  it('encodes all of Tiny Shakespeare to the golden ids', () => {
    const ids = tokenizer.encode(readSharedText('data', 'tiny_shakespeare.txt'));
    const want = golden.tiny_shakespeare;
    expect(ids.length).toBe(want.n_ids);
    expect(ids.slice(0, 40)).toEqual(want.first_40);
    expect(createHash('sha256').update(ids.join(',')).digest('hex')).toBe(want.sha256_of_ids_joined_by_comma);
  });

  it('follows add_space_prefix, add_bos_token and add_eos_token', async () => {
    const path = await vocabularyGGUF(
      'flags',
      await sentencePieceTokenizerMetadata({
        'tokenizer.ggml.add_space_prefix': ggufValue.bool(false),
        'tokenizer.ggml.add_bos_token': ggufValue.bool(false),
        'tokenizer.ggml.add_eos_token': ggufValue.bool(true),
      }),
    );
    const opened = await tokenizerFromGGUF(path);
    expect(opened).toMatchObject({ addBos: false, addEos: true });
    expect(opened?.tokenizer.encode('Hello')).not.toEqual(tokenizer.encode('Hello'));
    expect(opened?.tokenizer.decode(opened.tokenizer.encode('Hello World'))).toBe('Hello World');
  });

  it.each([
    [
      'scores of another length',
      { 'tokenizer.ggml.scores': ggufValue.array(GGUFValueType.FLOAT32, [0, 0]) },
      /metadata "tokenizer\.ggml\.scores" has 2 elements, but "tokenizer\.ggml\.tokens" has 4096/,
    ],
    [
      'no scores',
      { 'tokenizer.ggml.scores': ggufValue.string('none') },
      /metadata "tokenizer\.ggml\.scores" is "none" \(string\); expected an array of numbers/,
    ],
    [
      'a token type outside sentencepiece’s',
      {
        'tokenizer.ggml.token_type': ggufValue.array(
          GGUFValueType.INT32,
          Array.from({ length: 4096 }, (_, id) => (id === 7 ? 0 : 1)),
        ),
      },
      /metadata "tokenizer\.ggml\.token_type" element 7 .* is 0; expected 1 \(normal\) to 6 \(byte\)/,
    ],
    [
      'an unknown id that is not the unknown piece',
      { 'tokenizer.ggml.unknown_token_id': ggufValue.u32(5) },
      /metadata "tokenizer\.ggml\.unknown_token_id" is 5, but the unknown piece \(token_type 2\) is token 0/,
    ],
    [
      'a bos id past the vocabulary',
      { 'tokenizer.ggml.bos_token_id': ggufValue.u32(9999) },
      /metadata "tokenizer\.ggml\.bos_token_id" is 9999; expected a token id below 4096/,
    ],
  ])('%s is one line naming the file and key', async (_, override, message) => {
    const path = await vocabularyGGUF('bad', await sentencePieceTokenizerMetadata(override));
    const error = await tokenizerFromGGUF(path).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(message);
    expect(error?.message).toContain(path);
    expect(error?.message.split('\n')).toHaveLength(1);
  });
});

describe('a Llama 2 model in GGUF', () => {
  it('opens with the SentencePiece tokenizer, the llama2 family and Llama 2’s chat format', () => {
    expect(fromGGUF.tokenizer).toBeInstanceOf(SentencePieceTokenizer);
    expect(fromGGUF.family).toBe('llama2');
    expect(fromGGUF.model.args).toMatchObject({ vocabSize: 4096, ropeTheta: 10000 });
    expect(fromGGUF.chatFormat).toBeInstanceOf(Llama2ChatFormat);
    expect([...fromGGUF.loopContext().stopTokens]).toEqual([2]);
  });

  it('completes and chats as the same weights in a Meta folder with tokenizer.model', async () => {
    const greedy = { temperature: 0, maxGenLen: 6, logprobs: true };
    const same = (got: { tokenIds?: number[]; logprobs?: number[] }[], want: typeof got) => {
      expect(got.map((c) => c.tokenIds)).toEqual(want.map((c) => c.tokenIds));
      for (const [i, completion] of got.entries()) {
        for (const [j, p] of (completion.logprobs ?? []).entries()) {
          expect(p).toBeCloseTo(want[i]?.logprobs?.[j] as number, 4);
        }
      }
    };
    same(await fromGGUF.textCompletion(['ROMEO:'], greedy), await fromFolder.textCompletion(['ROMEO:'], greedy));
    const dialog = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Who is Romeo?' },
    ];
    const chat = await fromGGUF.chatCompletion([dialog], greedy);
    same(chat, await fromFolder.chatCompletion([dialog], greedy));
    expect(chat[0]?.usage.promptTokens).toBe(
      fromGGUF.tokenizer.encode('[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWho is Romeo? [/INST]', { bos: true }).length,
    );
  });
});
