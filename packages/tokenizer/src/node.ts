import { readFile } from 'node:fs/promises';
import { CharTokenizer } from './char-tokenizer.js';
import { TokenizerError } from './errors.js';
import { vocabularyFromHFTokenizerJSON } from './hf-tokenizer-json.js';
import { Tokenizer } from './tokenizer.js';
import type { TextTokenizer } from './types.js';

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
  return charTokenizerFromText(await readText(path, 'character tokenizer file'), path);
}

function parseJSON(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

function charTokenizerFromText(text: string, path: string): CharTokenizer {
  return CharTokenizer.fromJSON(parseJSON(text, path), path);
}

/** A JSON tokenizer file: Hugging Face's tokenizer.json (it has a "model"), else a CharTokenizer's. */
function jsonTokenizerFromText(text: string, path: string): TextTokenizer {
  const json = parseJSON(text, path);
  if (typeof json === 'object' && json !== null && 'model' in json) {
    return Tokenizer.fromBPEVocabulary(vocabularyFromHFTokenizerJSON(json, path));
  }
  return CharTokenizer.fromJSON(json, path);
}

/** A tiktoken rank file's first line: `<base64 token bytes> <rank>`. */
const RANKS_LINE = /^[A-Za-z0-9+/=]+\s+\d+$/;

/**
 * Loads whichever tokenizer `path` holds, told apart by its contents: Llama 3's `tokenizer.model`
 * (tiktoken ranks), Hugging Face's `tokenizer.json` for Llama 3 (byte-level BPE with merges), or a
 * CharTokenizer's `tokenizer.json`.
 */
export async function loadAnyTokenizer(path: string): Promise<TextTokenizer> {
  const text = await readText(path, 'tokenizer file');
  const firstLine = text.trimStart().split('\n', 1)[0]?.trim() ?? '';
  if (firstLine.startsWith('{')) return jsonTokenizerFromText(text, path);
  if (RANKS_LINE.test(firstLine)) return Tokenizer.fromRanks(text, { source: path });
  throw new TokenizerError(
    `${path}: not a tokenizer file: expected Llama 3's tokenizer.model (lines of "<base64 bytes> <rank>"), a Hugging Face tokenizer.json or a character tokenizer's tokenizer.json`,
  );
}
