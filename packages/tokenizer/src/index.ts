// The browser-safe core entry. Bundlers need tiktoken's `.wasm` imported statically, so it is here
// (the Node entry, node.ts, loads tiktoken only when a Llama 3 tokenizer is first made).
import { Tiktoken } from 'tiktoken';
import { setTiktokenProvider } from './tiktoken-core.js';

setTiktokenProvider(() => Tiktoken);

export * from './exports.js';
