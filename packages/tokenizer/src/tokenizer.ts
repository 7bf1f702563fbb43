import type { Tiktoken } from 'tiktoken';
import { type BPEVocabulary, type TiktokenParts, tiktokenPartsFromVocabulary } from './bpe-vocabulary.js';
import { describeValue as describe, TokenizerError } from './errors.js';
import { advanceCodePoints, splitWhitespaceRuns } from './python-text.js';
import { validateRanksFile } from './ranks-file.js';
import { BEGIN_OF_TEXT, END_OF_TEXT, EOT_ID, SPECIAL_TOKEN_NAMES } from './special-tokens.js';
import { createStreamDecoder, type StreamDecoder } from './stream-decoder.js';
import { tiktokenClass } from './tiktoken-core.js';
import type { EncodeOptions, TextTokenizer } from './types.js';

/** The reference's `pat_str`, handed to tiktoken's Rust regex engine unchanged. */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** tiktoken is handed at most this many code points at once (the reference's constant). */
const MAX_ENCODE_CHARS = 400_000;
/**
 * No piece handed to tiktoken has a longer run of whitespace or non-whitespace code points: its BPE
 * is quadratic in the length of one regex piece, so longer runs would take minutes (or crash).
 */
const MAX_NO_WHITESPACE_CHARS = 25_000;

export interface LlamaEncodeOptions extends EncodeOptions {
  /**
   * Special-token names to encode as control tokens where they appear in the text, or 'all'.
   * Default: none, so `<|eot_id|>` typed by a user is encoded as ordinary text.
   */
  allowedSpecial?: 'all' | Iterable<string>;
  /**
   * Special-token names whose appearance in the text is an error, or 'all' (every special token not
   * allowed). Default: none.
   */
  disallowedSpecial?: 'all' | Iterable<string>;
}

export interface FromRanksOptions {
  /** Named in error messages, e.g. the file path the contents came from. */
  source?: string;
}

/**
 * The Llama 3 tokenizer: tiktoken BPE over the reference's rank file, with the reference's
 * 256 special tokens and its input splitting. Runs anywhere tiktoken's WASM runs (Node, browsers).
 * The same vocabulary stored as byte-level BPE (GGUF, Hugging Face's tokenizer.json) opens with
 * `fromBPEVocabulary`.
 */
export class Tokenizer implements TextTokenizer {
  /** Vocabulary size including the special tokens (128256 for Llama 3). */
  readonly nWords: number;
  readonly numBaseTokens: number;
  readonly bosId: number;
  readonly eosId: number;
  /** End of turn: closes each chat message. */
  readonly eotId: number;
  readonly padId = -1;
  readonly stopTokens: ReadonlySet<number>;
  /** Special-token name → id. */
  readonly specialTokens: ReadonlyMap<string, number>;

  readonly #core: Tiktoken;

  private constructor(core: Tiktoken, parts: Omit<TiktokenParts, 'ranks'>) {
    this.#core = core;
    this.numBaseTokens = parts.numBaseTokens;
    this.specialTokens = parts.specialTokens;
    this.nWords = parts.nWords;
    this.bosId = parts.bosId;
    this.eosId = parts.eosId;
    this.eotId = parts.eotId;
    this.stopTokens = parts.stopTokens;
  }

  /** Builds the tokenizer from the text of a tiktoken BPE rank file (Llama 3's `tokenizer.model`). */
  static fromRanks(contents: string, options: FromRanksOptions = {}): Tokenizer {
    const source = options.source ?? 'tokenizer ranks';
    const numBaseTokens = validateRanksFile(contents, source);
    const specialTokens = new Map(SPECIAL_TOKEN_NAMES.map((name, i) => [name, numBaseTokens + i]));
    const TiktokenCore = tiktokenClass();
    const core = new TiktokenCore(contents, Object.fromEntries(specialTokens), LLAMA3_PATTERN);
    const id = (name: string) => specialTokens.get(name) as number;
    const [bosId, eosId, eotId] = [id(BEGIN_OF_TEXT), id(END_OF_TEXT), id(EOT_ID)];
    return new Tokenizer(core, {
      numBaseTokens,
      nWords: numBaseTokens + specialTokens.size,
      specialTokens,
      bosId,
      eosId,
      eotId,
      stopTokens: new Set([eosId, eotId]),
    });
  }

  /**
   * Builds the tokenizer from a byte-level BPE vocabulary with Llama 3's pre-tokenizer (a GGUF's
   * `tokenizer.ggml.*` with pre "llama-bpe", a Hugging Face tokenizer.json): the token ids are
   * tiktoken's ranks, so it gives exactly the ids `fromRanks` gives for the same vocabulary.
   */
  static fromBPEVocabulary(vocabulary: BPEVocabulary): Tokenizer {
    const { ranks, ...parts } = tiktokenPartsFromVocabulary(vocabulary);
    const TiktokenCore = tiktokenClass();
    const core = new TiktokenCore(ranks, Object.fromEntries(parts.specialTokens), LLAMA3_PATTERN);
    return new Tokenizer(core, parts);
  }

  /**
   * Encodes text as the reference does: 400,000-code-point chunks, each cut into runs of at most
   * 25,000 whitespace or non-whitespace code points, each run BPE-encoded by tiktoken.
   */
  encode(text: string, options: LlamaEncodeOptions = {}): number[] {
    if (typeof text !== 'string') {
      throw new TokenizerError(`Tokenizer.encode: text must be a string, got ${describe(text)}`);
    }
    const allowed = this.#resolveSpecial(options.allowedSpecial, 'allowedSpecial');
    const disallowed =
      options.disallowedSpecial === 'all'
        ? [...this.specialTokens.keys()].filter((name) => !allowed.includes(name))
        : this.#resolveSpecial(options.disallowedSpecial, 'disallowedSpecial');
    for (const name of disallowed) {
      if (text.includes(name)) {
        throw new TokenizerError(
          `Tokenizer.encode: the text contains the special token ${name}, which disallowedSpecial forbids ` +
            '(list it in allowedSpecial to encode it as a control token, or leave disallowedSpecial empty to encode it as plain text)',
        );
      }
    }

    const ids: number[] = [];
    if (options.bos) ids.push(this.bosId);
    for (const piece of referencePieces(text)) {
      const pieceIds = allowed.length > 0 ? this.#core.encode(piece, allowed, []) : this.#core.encode_ordinary(piece);
      for (let i = 0; i < pieceIds.length; i++) ids.push(pieceIds[i] as number);
    }
    if (options.eos) ids.push(this.eosId);
    return ids;
  }

  /** The text of the ids; bytes that are not valid UTF-8 become U+FFFD, as in the reference. */
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  /** The raw bytes of the ids (special tokens give their names). */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const checked = new Uint32Array(ids.length);
    for (let i = 0; i < ids.length; i++) checked[i] = this.#checkId(ids[i], `Tokenizer.decode: ids[${i}]`);
    return this.#core.decode(checked);
  }

  /** The bytes of one token. */
  tokenBytes(id: number): Uint8Array {
    return this.#core.decode_single_token_bytes(this.#checkId(id, 'Tokenizer.tokenBytes: id'));
  }

  /** A decoder fed one token at a time that only emits complete characters (see StreamDecoder). */
  streamDecoder(): StreamDecoder {
    return createStreamDecoder((id) => this.tokenBytes(id));
  }

  /** Releases tiktoken's WASM memory; the tokenizer cannot be used afterwards. */
  free(): void {
    this.#core.free();
  }

  #checkId(id: unknown, what: string): number {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.nWords) {
      throw new TokenizerError(`${what} is ${describe(id)}; expected an integer token id in 0..${this.nWords - 1}`);
    }
    return id;
  }

  #resolveSpecial(value: 'all' | Iterable<string> | undefined, option: string): string[] {
    if (value === undefined) return [];
    if (value === 'all') return [...this.specialTokens.keys()];
    if (typeof value === 'string' || typeof (value as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new TokenizerError(
        `Tokenizer.encode: ${option} must be 'all' or a list of special-token names, got ${describe(value)}`,
      );
    }
    const names = [...value];
    for (const name of names) {
      if (!this.specialTokens.has(name)) {
        throw new TokenizerError(`Tokenizer.encode: ${option} names ${describe(name)}, which is not a special token`);
      }
    }
    return names;
  }
}

/** The substrings the reference hands to tiktoken one at a time (see `encode`). */
function* referencePieces(text: string): Generator<string> {
  // A string of at most 25,000 UTF-16 units has at most that many code points: nothing to cut.
  if (text.length <= MAX_NO_WHITESPACE_CHARS) {
    yield text;
    return;
  }
  for (let chunkStart = 0; chunkStart < text.length; ) {
    const chunkEnd = advanceCodePoints(text, chunkStart, MAX_ENCODE_CHARS);
    yield* splitWhitespaceRuns(text, chunkStart, chunkEnd, MAX_NO_WHITESPACE_CHARS);
    chunkStart = chunkEnd;
  }
}
