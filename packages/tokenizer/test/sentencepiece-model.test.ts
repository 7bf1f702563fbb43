// SentencePiece models built by hand: the bad files a loader must refuse by name, and the parts of
// sentencepiece's behaviour that Llama's vocabulary does not exercise (user-defined and unused pieces,
// <unk> without byte fallback, remove_extra_whitespaces), each as sentencepiece's source does it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAnyTokenizer, type SentencePieceEntry, SentencePieceTokenizer, TokenizerError } from '../src/node.js';
import { protoMessage, sentencePieceModel, sentencePieceTokenizer } from './fixtures.js';

const NORMAL = 1;
const UNKNOWN = 2;
const CONTROL = 3;
const USER_DEFINED = 4;
const UNUSED = 5;

/** <unk>, <s>, </s>, then the given pieces: a model file with Llama 2's normaliser settings. */
function tinyModel(pieces: [string, number, number][], normalizer: [number, number | boolean][] = [[4, false]]) {
  return sentencePieceModel(
    [['<unk>', 0, UNKNOWN], ['<s>', 0, CONTROL], ['</s>', 0, CONTROL], ...pieces],
    [[3, 2]],
    normalizer,
  );
}

function errorOf(make: () => unknown): Error {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(TokenizerError);
    return error as Error;
  }
  throw new Error('expected a TokenizerError');
}

describe('bad model files', () => {
  let dir: string;
  let model: Uint8Array;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-ts-sentencepiece-'));
    model = await readFile(sharedPath('data', 'sentencepiece', 'shakespeare-bpe-4k.model'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names a truncated file and where it ends', async () => {
    const path = join(dir, 'truncated.model');
    await writeFile(path, model.subarray(0, 1000));
    await expect(loadAnyTokenizer(path)).rejects.toThrow(
      new RegExp(
        `^${path}: not a valid SentencePiece model \\(protobuf\\): field 1 needs \\d+ bytes but the file ends first \\(truncated\\?\\) at byte \\d+$`,
      ),
    );
  });

  it('refuses bytes that are not a protobuf, and an empty file', () => {
    const garbage = Uint8Array.from([0x0a, 0x03, 0x0a, 0x01, 0x41, 0xff, 0xff, 0xff]);
    expect(errorOf(() => SentencePieceTokenizer.fromModelProto(garbage, { source: 'x.model' })).message).toMatch(
      /^x\.model: not a valid SentencePiece model \(protobuf\): /,
    );
    expect(errorOf(() => SentencePieceTokenizer.fromModelProto(new Uint8Array(0), { source: 'x.model' })).message).toBe(
      'x.model: the file is empty; expected a SentencePiece model',
    );
  });

  it('refuses a unigram model (and the proto default, which is unigram) with a clear message', () => {
    const unigram = sentencePieceModel([['<unk>', 0, UNKNOWN]], [[3, 1]]);
    expect(errorOf(() => SentencePieceTokenizer.fromModelProto(unigram, { source: 'u.model' })).message).toBe(
      'u.model: a SentencePiece unigram model (trainer_spec.model_type 1); only BPE models (model_type 2, as Llama 1 and 2 use) are supported',
    );
    const noType = sentencePieceModel([['<unk>', 0, UNKNOWN]], []);
    expect(errorOf(() => SentencePieceTokenizer.fromModelProto(noType)).message).toMatch(
      /a SentencePiece unigram model/,
    );
  });

  it('refuses a precompiled normalisation rule (nmt_nfkc)', () => {
    const nfkc = sentencePieceModel(
      [['<unk>', 0, UNKNOWN]],
      [[3, 2]],
      [
        [1, 'nmt_nfkc'],
        [2, Uint8Array.from([4, 0, 0, 0, 1, 2, 3, 4, 0])],
      ],
    );
    expect(errorOf(() => SentencePieceTokenizer.fromModelProto(nfkc, { source: 'n.model' })).message).toBe(
      'n.model: the model normalises text with normalizer_spec.precompiled_charsmap (rule "nmt_nfkc"), which is not supported; only the identity normaliser (Llama\'s) is',
    );
  });

  it('names vocabularies sentencepiece would refuse', () => {
    expect(
      errorOf(() =>
        SentencePieceTokenizer.fromModelProto(
          tinyModel([
            ['a', 0, NORMAL],
            ['a', 0, NORMAL],
          ]),
        ),
      ).message,
    ).toMatch(/piece "a" \(id 4\) is defined twice/);
    const noUnk = sentencePieceModel([['a', 0, NORMAL]]);
    expect(errorOf(() => SentencePieceTokenizer.fromModelProto(noUnk)).message).toMatch(/no unknown piece/);
    const halfBytes = sentencePieceModel(
      [
        ['<unk>', 0, UNKNOWN],
        ['<0x00>', 0, 6],
      ],
      [
        [3, 2],
        [35, true],
      ],
    );
    expect(errorOf(() => SentencePieceTokenizer.fromModelProto(halfBytes)).message).toMatch(
      /byte_fallback is on but the vocabulary has 1 of the 256 byte pieces/,
    );
    expect(
      errorOf(() => SentencePieceTokenizer.fromModelProto(protoMessage([[1, [[2, { float: 1 }]]]]))).message,
    ).toMatch(/pieces\[0\] has no text/);
  });

  it('loadAnyTokenizer tells a SentencePiece model from the other formats', async () => {
    const tokenizer = await loadAnyTokenizer(sharedPath('data', 'sentencepiece', 'shakespeare-bpe-4k.model'));
    expect(tokenizer).toBeInstanceOf(SentencePieceTokenizer);
  });
});

describe('built from pieces (as a GGUF file lists them)', () => {
  it('encodes as the same model read from its file', async () => {
    const fromFile = await sentencePieceTokenizer();
    const pieces: SentencePieceEntry[] = Array.from({ length: fromFile.nWords }, (_, id) => ({
      piece: fromFile.idToPiece(id),
      score: fromFile.pieceScore(id),
      type: fromFile.pieceType(id),
    }));
    const fromPieces = SentencePieceTokenizer.fromPieces(pieces, { removeExtraWhitespaces: false, byteFallback: true });
    const text = 'ROMEO:\nBut, soft! what light through yonder window breaks? 日本 🦙';
    expect(fromPieces.encode(text, { bos: true })).toEqual(fromFile.encode(text, { bos: true }));
    expect(fromPieces.decode(fromFile.encode(text))).toBe(text);
    expect(fromPieces.bosId).toBe(1);
    expect(SentencePieceTokenizer.fromPieces(pieces, { byteFallback: true, bosId: -1, eosId: 3 }).eosId).toBe(3);
  });

  it('names a bad entry', () => {
    const bad = [
      { piece: '<unk>', score: 0, type: 'unknown' },
      { piece: 'a', score: 0, type: 'weird' },
    ];
    expect(
      errorOf(() => SentencePieceTokenizer.fromPieces(bad as SentencePieceEntry[], { source: 'gguf' })).message,
    ).toMatch(/^gguf: piece 1 \("a"\) has type "weird"; expected one of normal, unknown, control/);
  });
});

describe("sentencepiece's rules beyond Llama's vocabulary", () => {
  it('merges the pair whose result scores highest, the leftmost of equal scores first', () => {
    const tokenizer = SentencePieceTokenizer.fromModelProto(
      tinyModel([
        ['▁', 0, NORMAL],
        ['a', 0, NORMAL],
        ['b', 0, NORMAL],
        ['ab', -1, NORMAL],
        ['ba', -2, NORMAL],
        ['aba', -3, NORMAL],
      ]),
    );
    // "abab": ab (score -1) at 0 and at 2 beat ba; the leftmost ab goes first, then the other.
    expect(tokenizer.encodePieces('abab')).toEqual(['▁', 'ab', 'ab']);
    // "bab": ab (-1) beats ba (-2), although ba is further left.
    expect(tokenizer.encodePieces('bab')).toEqual(['▁', 'b', 'ab']);
  });

  it('matches user-defined pieces in text and never splits or merges them; control pieces stay text', () => {
    const tokenizer = SentencePieceTokenizer.fromModelProto(
      tinyModel([
        ['▁', 0, NORMAL],
        ['a', 0, NORMAL],
        ['<s', 0, NORMAL],
        ['>', 0, NORMAL],
        ['<sep>', 0, USER_DEFINED],
        ['▁a', -1, NORMAL],
      ]),
    );
    expect(tokenizer.encodePieces('a<sep>a')).toEqual(['▁a', '<sep>', 'a']);
    expect(tokenizer.encodePieces('<s>')).toEqual(['▁', '<s', '>']);
  });

  it('splits an unused piece that merges produce back into its halves', () => {
    const tokenizer = SentencePieceTokenizer.fromModelProto(
      tinyModel([
        ['▁', 0, NORMAL],
        ['a', 0, NORMAL],
        ['b', 0, NORMAL],
        ['ab', -1, UNUSED],
        ['▁ab', -2, NORMAL],
      ]),
    );
    // The symbols merge through the unused "ab" into "▁ab"; an "ab" left alone is split back.
    expect(tokenizer.encodePieces('ab')).toEqual(['▁ab']);
    expect(tokenizer.encodePieces('a ab')).toEqual(['▁', 'a', '▁ab']);
    expect(tokenizer.encode('xab')).toEqual([3, 0, 4, 5]);
  });

  it('without byte fallback, a run of unknown characters is one <unk>, decoded as " ⁇ "', () => {
    const tokenizer = SentencePieceTokenizer.fromModelProto(
      tinyModel([
        ['▁', 0, NORMAL],
        ['a', 0, NORMAL],
      ]),
    );
    expect(tokenizer.encode('xyz a')).toEqual([3, 0, 3, 4]);
    expect(tokenizer.encode('x y')).toEqual([3, 0, 3, 0]);
    expect(tokenizer.decode(tokenizer.encode('xyz a'))).toBe(' \u2047  a');
  });

  it('with remove_extra_whitespaces (the proto default), drops leading, trailing and repeated spaces', () => {
    const tokenizer = SentencePieceTokenizer.fromModelProto(
      tinyModel(
        [
          ['▁', 0, NORMAL],
          ['a', 0, NORMAL],
          ['▁a', -1, NORMAL],
        ],
        [],
      ),
    );
    expect(tokenizer.settings.removeExtraWhitespaces).toBe(true);
    expect(tokenizer.encodePieces('   a    a  ')).toEqual(['▁a', '▁a']);
    expect(tokenizer.encode('   ')).toEqual([]);
    // Every leading ▁ is dropped in decode until text appears.
    expect(tokenizer.decode([3, 3, 5])).toBe('a');
  });

  it('without the dummy prefix, text starts without ▁', () => {
    const tokenizer = SentencePieceTokenizer.fromModelProto(
      tinyModel(
        [
          ['▁', 0, NORMAL],
          ['a', 0, NORMAL],
        ],
        [
          [3, false],
          [4, false],
        ],
      ),
    );
    expect(tokenizer.encodePieces('a a')).toEqual(['a', '▁', 'a']);
  });
});
