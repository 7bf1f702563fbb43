import { GGUFMetadata, readGGUFHeader } from '@llama-ts/model';
import {
  type PieceType,
  pieceTypeOfNumber,
  type SentencePieceEntry,
  SentencePieceTokenizer,
  Tokenizer,
} from '@llama-ts/tokenizer/node';
import { GenerationError } from './errors.js';

/** The tokenizer a GGUF file carries, with what its metadata says about using it. */
export interface GGUFTokenizer {
  /** Llama 3's byte-level BPE ("gpt2") or Llama 1/2's SentencePiece ("llama"). */
  tokenizer: Tokenizer | SentencePieceTokenizer;
  /** tokenizer.ggml.add_bos_token (default true, as Llama's). */
  addBos: boolean;
  /** tokenizer.ggml.add_eos_token (default false, as Llama's). */
  addEos: boolean;
  /** tokenizer.chat_template, when the file has one. */
  chatTemplate?: string;
}

/** A GGUF vocabulary llama-ts cannot read (yet): the model still runs on token ids. */
export class UnsupportedVocabularyError extends GenerationError {
  override name = 'UnsupportedVocabularyError';
}

/** llama.cpp's names of Llama 3's pre-tokenizer (its regex) in tokenizer.ggml.pre. */
const LLAMA3_PRE = new Set(['llama-bpe', 'llama3', 'llama-v3']);

/**
 * The tokenizer in a GGUF's metadata (`tokenizer.ggml.*`), or undefined when it has none. Reads the
 * file's header; with the header already read, use tokenizerFromGGUFMetadata.
 */
export async function tokenizerFromGGUF(path: string): Promise<GGUFTokenizer | undefined> {
  return tokenizerFromGGUFMetadata(new GGUFMetadata((await readGGUFHeader(path)).metadata, path));
}

/**
 * The tokenizer in a GGUF's metadata, or undefined when it has none: Llama 3's ("gpt2" with pre
 * "llama-bpe") becomes the Llama 3 Tokenizer with the file's ids, Llama 1/2's ("llama") the
 * SentencePiece tokenizer with the file's pieces, scores and types; any other is refused naming the key.
 */
export function tokenizerFromGGUFMetadata(metadata: GGUFMetadata): GGUFTokenizer | undefined {
  const path = metadata.path;
  const model = metadata.optionalString('tokenizer.ggml.model');
  if (model === undefined) return undefined;
  let tokenizer: Tokenizer | SentencePieceTokenizer;
  if (model === 'llama') {
    tokenizer = sentencePieceFromGGUF(metadata);
  } else if (model === 'gpt2') {
    tokenizer = llama3FromGGUF(metadata);
  } else {
    throw new UnsupportedVocabularyError(
      `${path}: metadata "tokenizer.ggml.model" is "${model}"; llama-ts reads "gpt2" (Llama 3's byte-level BPE) and "llama" (Llama 1/2's SentencePiece)`,
    );
  }
  const chatTemplate = metadata.optionalString('tokenizer.chat_template');
  return {
    tokenizer,
    addBos: metadata.optionalBoolean('tokenizer.ggml.add_bos_token') ?? true,
    addEos: metadata.optionalBoolean('tokenizer.ggml.add_eos_token') ?? false,
    ...(chatTemplate !== undefined ? { chatTemplate } : {}),
  };
}

/** tokenizer.ggml.<name> (bos_token_id, ...), an id of one of the `count` tokens, when the file has it. */
function tokenId(metadata: GGUFMetadata, name: string, count: number): number | undefined {
  const key = `tokenizer.ggml.${name}`;
  const id = metadata.optionalInteger(key);
  if (id !== undefined && id >= count) metadata.fail(key, `is ${id}; expected a token id below ${count}`);
  return id;
}

function llama3FromGGUF(metadata: GGUFMetadata): Tokenizer {
  const path = metadata.path;
  const pre = metadata.optionalString('tokenizer.ggml.pre');
  if (pre === undefined || !LLAMA3_PRE.has(pre)) {
    throw new UnsupportedVocabularyError(
      `${path}: metadata "tokenizer.ggml.pre" is ${pre === undefined ? 'missing' : `"${pre}"`}; only Llama 3's pre-tokenizer ("llama-bpe") is supported`,
    );
  }
  const tokens = metadata.stringArray('tokenizer.ggml.tokens');
  const [bosId, eosId, eotId, eomId] = ['bos_token_id', 'eos_token_id', 'eot_token_id', 'eom_token_id'].map((name) =>
    tokenId(metadata, name, tokens.length),
  );
  return Tokenizer.fromBPEVocabulary({
    tokens,
    ...(metadata.has('tokenizer.ggml.token_type')
      ? { tokenTypes: metadata.integerArray('tokenizer.ggml.token_type') }
      : {}),
    ...(metadata.has('tokenizer.ggml.merges') ? { merges: metadata.stringArray('tokenizer.ggml.merges') } : {}),
    ...(bosId !== undefined ? { bosId } : {}),
    ...(eosId !== undefined ? { eosId } : {}),
    ...(eotId !== undefined ? { eotId } : {}),
    ...(eomId !== undefined ? { eomId } : {}),
    source: `${path} (tokenizer.ggml.*)`,
  });
}

/**
 * Llama 1/2's SentencePiece vocabulary as llama.cpp's converter stores it: every piece's text,
 * score and type (numbered as sentencepiece numbers them). The normaliser settings a
 * `tokenizer.model` holds are not in the file: llama.cpp assumes Llama's (a dummy prefix unless
 * `add_space_prefix` is false, extra whitespace kept unless `remove_extra_whitespaces`, byte fallback
 * when the vocabulary has the byte pieces), and so does this.
 */
function sentencePieceFromGGUF(metadata: GGUFMetadata): SentencePieceTokenizer {
  const tokensKey = 'tokenizer.ggml.tokens';
  const tokens = metadata.stringArray(tokensKey);
  const scores = metadata.numberArray('tokenizer.ggml.scores');
  const types = metadata.integerArray('tokenizer.ggml.token_type');
  for (const [key, values] of [
    ['tokenizer.ggml.scores', scores],
    ['tokenizer.ggml.token_type', types],
  ] as const) {
    if (values.length !== tokens.length) {
      metadata.fail(
        key,
        `has ${values.length} elements, but "${tokensKey}" has ${tokens.length}; expected one per token`,
      );
    }
  }
  const pieces: SentencePieceEntry[] = tokens.map((piece, id) => {
    const type: PieceType | undefined = pieceTypeOfNumber(types[id] as number);
    if (type === undefined) {
      metadata.fail(
        'tokenizer.ggml.token_type',
        `element ${id} (${JSON.stringify(piece)}) is ${types[id]}; expected 1 (normal) to 6 (byte), as sentencepiece numbers them`,
      );
    }
    return { piece, score: scores[id] as number, type };
  });
  const [bosId, eosId, padId, unkId] = ['bos_token_id', 'eos_token_id', 'padding_token_id', 'unknown_token_id'].map(
    (name) => tokenId(metadata, name, tokens.length),
  );
  const tokenizer = SentencePieceTokenizer.fromPieces(pieces, {
    source: `${metadata.path} (tokenizer.ggml.*)`,
    addDummyPrefix: metadata.optionalBoolean('tokenizer.ggml.add_space_prefix') ?? true,
    removeExtraWhitespaces: metadata.optionalBoolean('tokenizer.ggml.remove_extra_whitespaces') ?? false,
    byteFallback: pieces.some((piece) => piece.type === 'byte'),
    ...(bosId !== undefined ? { bosId } : {}),
    ...(eosId !== undefined ? { eosId } : {}),
    ...(padId !== undefined ? { padId } : {}),
  });
  if (unkId !== undefined && unkId !== tokenizer.unkId) {
    metadata.fail(
      'tokenizer.ggml.unknown_token_id',
      `is ${unkId}, but the unknown piece (token_type 2) is token ${tokenizer.unkId}`,
    );
  }
  return tokenizer;
}
