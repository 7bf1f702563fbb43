import { readFile } from 'node:fs/promises';
import { CharTokenizer } from './char-tokenizer.js';
import { TokenizerError } from './errors.js';
import { SentencePieceTokenizer } from './sentencepiece/tokenizer.js';
import { Tokenizer } from './tokenizer.js';
import type { TextTokenizer } from './types.js';

export * from './index.js';

async function readText(path: string, what: string): Promise<string> {
  return (await readBytes(path, what)).toString('utf8');
}

async function readBytes(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
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

/** Loads a SentencePiece `tokenizer.model` (Llama 1 and 2's) from disk. */
export async function loadSentencePieceTokenizer(path: string): Promise<SentencePieceTokenizer> {
  return SentencePieceTokenizer.fromModelProto(await readBytes(path, 'tokenizer file'), { source: path });
}

/** Loads a CharTokenizer saved as JSON (the `tokenizer.json` written beside a from-scratch checkpoint). */
export async function loadCharTokenizer(path: string): Promise<CharTokenizer> {
  return charTokenizerFromText(await readText(path, 'character tokenizer file'), path);
}

function charTokenizerFromText(text: string, path: string): CharTokenizer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return CharTokenizer.fromJSON(json, path);
}

/** A tiktoken rank file's first line: `<base64 token bytes> <rank>`. */
const RANKS_LINE = /^[A-Za-z0-9+/=]+\s+\d+$/;

/**
 * A SentencePiece model's first byte: the key of `ModelProto.pieces` (field 1, length-delimited),
 * which the protobuf writes first. Neither a rank file (base64) nor JSON can start with it.
 */
const SENTENCEPIECE_FIRST_BYTE = 0x0a;

/**
 * Loads whichever tokenizer `path` holds, told apart by its contents: Llama 3's `tokenizer.model`
 * (tiktoken ranks), Llama 1/2's `tokenizer.model` (SentencePiece protobuf) or a CharTokenizer's
 * `tokenizer.json`.
 */
export async function loadAnyTokenizer(path: string): Promise<TextTokenizer> {
  const bytes = await readBytes(path, 'tokenizer file');
  if (bytes[0] === SENTENCEPIECE_FIRST_BYTE) return SentencePieceTokenizer.fromModelProto(bytes, { source: path });
  const text = bytes.toString('utf8');
  const firstLine = text.trimStart().split('\n', 1)[0]?.trim() ?? '';
  if (firstLine.startsWith('{')) return charTokenizerFromText(text, path);
  if (RANKS_LINE.test(firstLine)) return Tokenizer.fromRanks(text, { source: path });
  throw new TokenizerError(
    `${path}: not a tokenizer file: expected Llama 3's tokenizer.model (lines of "<base64 bytes> <rank>"), Llama 2's tokenizer.model (a SentencePiece protobuf) or a character tokenizer's tokenizer.json`,
  );
}
