import { sharedPath } from '@llama-ts/test-support';
import { loadTokenizer, type Tokenizer } from '../src/node.js';

let tokenizer: Promise<Tokenizer> | undefined;

/** The real Llama 3 tokenizer from ../shared, loaded once per test file. */
export function llama3Tokenizer(): Promise<Tokenizer> {
  tokenizer ??= loadTokenizer(sharedPath('data', 'llama3', 'tokenizer.model'));
  return tokenizer;
}
