/**
 * Where the Tokenizer gets tiktoken's `Tiktoken` class from. tiktoken instantiates its WebAssembly
 * core the moment it is imported, and that core reserves gigabytes of address space (about 10 GB
 * with V8's guard regions): a process that never encodes Llama 3 text should not pay for it (nor
 * fail under `ulimit -v`). The browser entry hands the class over at import (bundlers need a static
 * import of the `.wasm`); the Node entry hands over a loader that requires tiktoken on first use.
 */

import type { Tiktoken } from 'tiktoken';
import { TokenizerError } from './errors.js';

type TiktokenClass = typeof Tiktoken;

let provide: (() => TiktokenClass) | undefined;
let loaded: TiktokenClass | undefined;

/** Called by an entry point: how to get the Tiktoken class when a Tokenizer is first made. */
export function setTiktokenProvider(provider: () => TiktokenClass): void {
  provide = provider;
}

/** The Tiktoken class, loading tiktoken (and its WebAssembly core) on the first call. */
export function tiktokenClass(): TiktokenClass {
  if (loaded) return loaded;
  if (!provide) {
    throw new TokenizerError(
      "tiktoken is not available: import Tokenizer from '@llama-ts/tokenizer' or '@llama-ts/tokenizer/node'",
    );
  }
  loaded = provide();
  return loaded;
}
