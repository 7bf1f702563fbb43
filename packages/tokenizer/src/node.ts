import { constants, type FileHandle, open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { CharTokenizer } from './char-tokenizer.js';
import { TokenizerError } from './errors.js';
import { vocabularyFromHFTokenizerJSON } from './hf-tokenizer-json.js';
import { SentencePieceTokenizer } from './sentencepiece/tokenizer.js';
import { setTiktokenProvider } from './tiktoken-core.js';
import { Tokenizer } from './tokenizer.js';
import type { TextTokenizer } from './types.js';

export * from './exports.js';

// tiktoken (and its WebAssembly core, which reserves gigabytes of address space) is loaded only
// when a Llama 3 tokenizer is first made, so that a process that never needs one never loads it.
setTiktokenProvider(() => (createRequire(import.meta.url)('tiktoken') as typeof import('tiktoken')).Tiktoken);

async function readText(path: string, what: string): Promise<string> {
  return (await readBytes(path, what)).toString('utf8');
}

/**
 * The bytes of a regular file. O_NONBLOCK lets a FIFO be opened (and refused) at once instead of
 * blocking until a writer appears; a directory is named as one rather than as a bare EISDIR.
 */
async function readBytes(path: string, what: string): Promise<Buffer> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = await handle.stat();
    if (!stats.isFile()) {
      const kind = stats.isDirectory() ? 'a directory' : stats.isFIFO() ? 'a FIFO (named pipe)' : 'not a regular file';
      throw new TokenizerError(`${path}: the ${what} is ${kind}, expected a regular file`);
    }
    return await handle.readFile();
  } catch (error) {
    if (error instanceof TokenizerError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new TokenizerError(`Cannot read the ${what} ${path}: ${reason}`);
  } finally {
    await handle?.close();
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

function parseJSON(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

function charTokenizerFromText(text: string, path: string): CharTokenizer {
  const json = parseJSON(text, path);
  if (isHuggingFaceTokenizerJson(json)) {
    throw new TokenizerError(
      `${path} is a Hugging Face tokenizers file (transformers' tokenizer.json), not a character tokenizer's; load it with loadAnyTokenizer`,
    );
  }
  return CharTokenizer.fromJSON(json, path);
}

/**
 * A JSON tokenizer file: Hugging Face's tokenizer.json (read when it is Llama 3's byte-level BPE,
 * else an UnsupportedTokenizerError saying why), else a CharTokenizer's.
 */
function jsonTokenizerFromText(text: string, path: string): TextTokenizer {
  const json = parseJSON(text, path);
  if (isHuggingFaceTokenizerJson(json)) {
    return Tokenizer.fromBPEVocabulary(vocabularyFromHFTokenizerJSON(json, path));
  }
  return CharTokenizer.fromJSON(json, path);
}

/**
 * Hugging Face's `tokenizer.json` (the `tokenizers` library's format, downloaded beside
 * transformers' checkpoints): an object with a `model` object (`{ type: "BPE", vocab, merges }`) and
 * `added_tokens`, `pre_tokenizer`, `decoder`... A CharTokenizer's JSON has `format` instead.
 */
function isHuggingFaceTokenizerJson(json: unknown): boolean {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const object = json as Record<string, unknown>;
  const model = object.model;
  return (
    object.format === undefined &&
    typeof model === 'object' &&
    model !== null &&
    ('added_tokens' in object || 'pre_tokenizer' in object || 'type' in model || 'vocab' in model)
  );
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
 * (tiktoken ranks), Llama 1/2's `tokenizer.model` (SentencePiece protobuf), Hugging Face's
 * `tokenizer.json` for Llama 3 (byte-level BPE with merges), or a CharTokenizer's `tokenizer.json`.
 * Any other Hugging Face `tokenizer.json` is told apart and refused with an UnsupportedTokenizerError
 * (not read yet).
 */
export async function loadAnyTokenizer(path: string): Promise<TextTokenizer> {
  const bytes = await readBytes(path, 'tokenizer file');
  if (bytes[0] === SENTENCEPIECE_FIRST_BYTE) return SentencePieceTokenizer.fromModelProto(bytes, { source: path });
  const text = bytes.toString('utf8');
  const firstLine = text.trimStart().split('\n', 1)[0]?.trim() ?? '';
  if (firstLine.startsWith('{')) return jsonTokenizerFromText(text, path);
  if (RANKS_LINE.test(firstLine)) return Tokenizer.fromRanks(text, { source: path });
  throw new TokenizerError(
    `${path}: not a tokenizer file: expected Llama 3's tokenizer.model (lines of "<base64 bytes> <rank>"), Llama 2's tokenizer.model (a SentencePiece protobuf), a Hugging Face tokenizer.json or a character tokenizer's tokenizer.json`,
  );
}
