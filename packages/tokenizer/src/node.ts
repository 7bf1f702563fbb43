import { readFile } from 'node:fs/promises';
import { CharTokenizer } from './char-tokenizer.js';
import { TokenizerError } from './errors.js';
import { Tokenizer } from './tokenizer.js';

export * from './index.js';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new TokenizerError(`Cannot read the ${what} ${path}: ${reason}`);
  }
}

/** Loads Llama 3's `tokenizer.model` (a tiktoken BPE rank file) from disk. */
export async function loadTokenizer(path: string): Promise<Tokenizer> {
  return Tokenizer.fromRanks(await readText(path, 'tokenizer file'), { source: path });
}

/** Loads a CharTokenizer saved as JSON (the `tokenizer.json` written beside a from-scratch checkpoint). */
export async function loadCharTokenizer(path: string): Promise<CharTokenizer> {
  const text = await readText(path, 'character tokenizer file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return CharTokenizer.fromJSON(json, path);
}
