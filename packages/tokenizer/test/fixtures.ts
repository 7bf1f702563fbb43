import { sharedPath } from '@llama-ts/test-support';
import { loadSentencePieceTokenizer, loadTokenizer, type SentencePieceTokenizer, type Tokenizer } from '../src/node.js';

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
