import type { StreamDecoder } from './stream-decoder.js';

export interface EncodeOptions {
  /** Prepend the begin-of-text id. Default false. */
  bos?: boolean;
  /** Append the end-of-text id. Default false. */
  eos?: boolean;
}

/**
 * What generation needs from a tokenizer; both the Llama 3 `Tokenizer` and the from-scratch
 * `CharTokenizer` provide it.
 */
export interface TextTokenizer {
  readonly nWords: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly stopTokens: ReadonlySet<number>;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>): string;
  streamDecoder(): StreamDecoder;
}
