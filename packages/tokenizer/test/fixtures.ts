import { readSharedText, sharedPath } from '@llama-ts/test-support';
import {
  byteLevelVocabularyFromRanks,
  LLAMA3_PATTERN,
  loadSentencePieceTokenizer,
  loadTokenizer,
  type SentencePieceTokenizer,
  Tokenizer,
} from '../src/node.js';

let tokenizer: Promise<Tokenizer> | undefined;

/** The real Llama 3 tokenizer from ../shared, loaded once per test file. */
export function llama3Tokenizer(): Promise<Tokenizer> {
  tokenizer ??= loadTokenizer(sharedPath('data', 'llama3', 'tokenizer.model'));
  return tokenizer;
}

let sentencePiece: Promise<SentencePieceTokenizer> | undefined;

/** ../shared's SentencePiece BPE model, made with Llama 2's trainer settings; loaded once per test file. */
export function sentencePieceTokenizer(): Promise<SentencePieceTokenizer> {
  sentencePiece ??= loadSentencePieceTokenizer(sharedPath('data', 'sentencepiece', 'shakespeare-bpe-4k.model'));
  return sentencePiece;
}

/** The bytes of a protobuf message written by hand: fields as [number, value] in order. */
export type ProtoValue = number | boolean | string | Uint8Array | { float: number } | ProtoFields;
export type ProtoFields = [number, ProtoValue][];

export function protoMessage(fields: ProtoFields): Uint8Array {
  const out: number[] = [];
  const varint = (value: number) => {
    let v = value;
    while (v >= 0x80) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  for (const [number, value] of fields) {
    if (typeof value === 'number' || typeof value === 'boolean') {
      varint(number * 8);
      varint(Number(value));
    } else if (typeof value === 'object' && 'float' in value) {
      varint(number * 8 + 5);
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setFloat32(0, value.float, true);
      out.push(...bytes);
    } else {
      const bytes =
        typeof value === 'string'
          ? new TextEncoder().encode(value)
          : value instanceof Uint8Array
            ? value
            : protoMessage(value);
      varint(number * 8 + 2);
      varint(bytes.length);
      out.push(...bytes);
    }
  }
  return Uint8Array.from(out);
}

/** A SentencePiece model file: pieces as [text, score, type number], then the trainer and normalizer specs. */
export function sentencePieceModel(
  pieces: [string, number, number][],
  trainer: ProtoFields = [[3, 2]],
  normalizer: ProtoFields = [],
): Uint8Array {
  return protoMessage([
    ...pieces.map(([piece, score, type]): [number, ProtoValue] => [
      1,
      [
        [1, piece],
        [2, { float: score }],
        [3, type],
      ],
    ]),
    [2, trainer],
    [3, normalizer],
  ]);
}

let vocabulary: ReturnType<typeof byteLevelVocabularyFromRanks> | undefined;

/** tokenizer.model as the byte-level vocabulary a GGUF (or tokenizer.json) stores: tokens, types, merges. */
export function llama3ByteLevelVocabulary(): ReturnType<typeof byteLevelVocabularyFromRanks> {
  vocabulary ??= byteLevelVocabularyFromRanks(readSharedText('data', 'llama3', 'tokenizer.model'), 'tokenizer.model');
  return vocabulary;
}

/** The Llama 3 tokenizer built from the GGUF-style vocabulary (as tokenizer.ggml.* would give it). */
export function llama3TokenizerFromVocabulary(): Tokenizer {
  const { tokens, tokenTypes, merges } = llama3ByteLevelVocabulary();
  return Tokenizer.fromBPEVocabulary({
    tokens,
    tokenTypes,
    merges,
    bosId: 128000,
    eosId: 128001,
    source: 'gguf-style',
  });
}

/** The same vocabulary as Hugging Face's tokenizer.json for Llama 3 (the fields that matter). */
export function llama3HFTokenizerJSON(): unknown {
  const { tokens, tokenTypes, merges } = llama3ByteLevelVocabulary();
  const vocab: Record<string, number> = {};
  const added: { id: number; content: string; special: boolean }[] = [];
  tokens.forEach((token, id) => {
    if (tokenTypes[id] === 1) vocab[token] = id;
    else added.push({ id, content: token, special: true });
  });
  return {
    version: '1.0',
    added_tokens: added,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    model: { type: 'BPE', ignore_merges: true, vocab, merges },
  };
}
