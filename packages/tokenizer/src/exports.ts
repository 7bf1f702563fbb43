export { type BPEVocabulary, byteLevelVocabularyFromRanks } from './bpe-vocabulary.js';
export { byteLevelDecode, byteLevelEncode } from './byte-level.js';
export { CharTokenizer, type CharTokenizerJSON } from './char-tokenizer.js';
export { ChatFormat, type Dialog, type Message, ROLES, type Role } from './chat-format.js';
export { TokenizerError, UnsupportedTokenizerError } from './errors.js';
export { vocabularyFromHFTokenizerJSON } from './hf-tokenizer-json.js';
export { SPECIAL_TOKEN_NAMES } from './special-tokens.js';
export type { StreamDecoder } from './stream-decoder.js';
export {
  type FromRanksOptions,
  LLAMA3_PATTERN,
  type LlamaEncodeOptions,
  Tokenizer,
} from './tokenizer.js';
export type { EncodeOptions, TextTokenizer } from './types.js';
