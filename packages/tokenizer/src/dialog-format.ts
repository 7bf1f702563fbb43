import { ChatFormat, type Dialog } from './chat-format.js';
import { Llama2ChatFormat } from './llama2-chat-format.js';
import { SentencePieceTokenizer } from './sentencepiece/tokenizer.js';
import { Tokenizer } from './tokenizer.js';
import type { TextTokenizer } from './types.js';

/** Which Llama generation a tokenizer belongs to: Llama 3 (tiktoken) or Llama 1/2 (SentencePiece). */
export type TokenizerFamily = 'llama3' | 'llama2';

/** What a chat needs: the prompt for a dialog, and the tokenizer that decodes the answer. */
export interface DialogFormat {
  readonly tokenizer: TextTokenizer;
  encodeDialogPrompt(dialog: Dialog): number[];
}

/** The family of a tokenizer, or undefined for one that says nothing of it (a CharTokenizer, ids). */
export function tokenizerFamily(tokenizer: TextTokenizer): TokenizerFamily | undefined {
  if (tokenizer instanceof Tokenizer) return 'llama3';
  if (tokenizer instanceof SentencePieceTokenizer) return 'llama2';
  return undefined;
}

/** The chat format that goes with a tokenizer (Llama 3's or Llama 2's), or undefined when it has none. */
export function dialogFormatFor(tokenizer: TextTokenizer): DialogFormat | undefined {
  if (tokenizer instanceof Tokenizer) return new ChatFormat(tokenizer);
  if (tokenizer instanceof SentencePieceTokenizer) return new Llama2ChatFormat(tokenizer);
  return undefined;
}
