export { type BPEVocabulary, byteLevelVocabularyFromRanks } from './bpe-vocabulary.js';
export { byteLevelDecode, byteLevelEncode } from './byte-level.js';
export { CharTokenizer, type CharTokenizerJSON } from './char-tokenizer.js';
export { ChatFormat, type Dialog, type Message, ROLES, type Role } from './chat-format.js';
export { type DialogFormat, dialogFormatFor, type TokenizerFamily, tokenizerFamily } from './dialog-format.js';
export { TokenizerError, UnsupportedTokenizerError } from './errors.js';
export { vocabularyFromHFTokenizerJSON } from './hf-tokenizer-json.js';
export { B_INST, B_SYS, E_INST, E_SYS, LLAMA2_SPECIAL_TAGS, Llama2ChatFormat } from './llama2-chat-format.js';
export { pieceTypeOfNumber } from './sentencepiece/model-proto.js';
export { type SentencePieceOptions, SentencePieceTokenizer } from './sentencepiece/tokenizer.js';
export type { PieceType, SentencePieceEntry, SentencePieceSettings } from './sentencepiece/types.js';
export { SPECIAL_TOKEN_NAMES } from './special-tokens.js';
export type { StreamDecoder } from './stream-decoder.js';
export {
  type FromRanksOptions,
  LLAMA3_PATTERN,
  type LlamaEncodeOptions,
  Tokenizer,
} from './tokenizer.js';
export type { EncodeOptions, TextTokenizer } from './types.js';
