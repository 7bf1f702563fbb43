import { GGUFMetadata, readGGUFHeader } from '@llama-ts/model';
import { Tokenizer } from '@llama-ts/tokenizer/node';
import { GenerationError } from './errors.js';

/** The tokenizer a GGUF file carries, with what its metadata says about using it. */
export interface GGUFTokenizer {
  tokenizer: Tokenizer;
  /** tokenizer.ggml.add_bos_token (default true, as Llama's). */
  addBos: boolean;
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
 * The tokenizer in a GGUF's metadata (`tokenizer.ggml.*`), or undefined when it has none. Llama 3's
 * ("gpt2" with pre "llama-bpe") becomes the Llama 3 Tokenizer with the file's ids; any other is
 * refused naming the key.
 */
export async function tokenizerFromGGUF(path: string): Promise<GGUFTokenizer | undefined> {
  const metadata = new GGUFMetadata((await readGGUFHeader(path)).metadata, path);
  const model = metadata.optionalString('tokenizer.ggml.model');
  if (model === undefined) return undefined;
  if (model === 'llama') {
    // Left for issue 14: SentencePieceTokenizer.fromPieces (tokenizer package) from tokenizer.ggml.tokens,
    // .scores and .token_type (GGUF's token types number as sentencepiece's), then Llama 2's template.
    throw new UnsupportedVocabularyError(
      `${path}: metadata "tokenizer.ggml.model" is "llama", a SentencePiece vocabulary (Llama 2's), which llama-ts cannot read yet; use a Llama 3 GGUF, or pass --tokenizer`,
    );
  }
  if (model !== 'gpt2') {
    throw new UnsupportedVocabularyError(
      `${path}: metadata "tokenizer.ggml.model" is "${model}"; llama-ts reads "gpt2" (Llama 3's byte-level BPE)`,
    );
  }
  const pre = metadata.optionalString('tokenizer.ggml.pre');
  if (pre === undefined || !LLAMA3_PRE.has(pre)) {
    throw new UnsupportedVocabularyError(
      `${path}: metadata "tokenizer.ggml.pre" is ${pre === undefined ? 'missing' : `"${pre}"`}; only Llama 3's pre-tokenizer ("llama-bpe") is supported`,
    );
  }
  const id = (key: string) => metadata.optionalInteger(`tokenizer.ggml.${key}`);
  const [bosId, eosId, eotId, eomId] = [id('bos_token_id'), id('eos_token_id'), id('eot_token_id'), id('eom_token_id')];
  const tokenizer = Tokenizer.fromBPEVocabulary({
    tokens: metadata.stringArray('tokenizer.ggml.tokens'),
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
  const chatTemplate = metadata.optionalString('tokenizer.chat_template');
  return {
    tokenizer,
    addBos: metadata.optionalBoolean('tokenizer.ggml.add_bos_token') ?? true,
    ...(chatTemplate !== undefined ? { chatTemplate } : {}),
  };
}
