import { describeValue as describe, TokenizerError } from '../errors.js';
import type { StreamDecoder } from '../stream-decoder.js';
import type { EncodeOptions, TextTokenizer } from '../types.js';
import { BpeVocabulary, bpeSegments } from './bpe.js';
import { createSentencePieceDecoder, type DecodeVocabulary } from './decoder.js';
import { PROTO_DEFAULT_SETTINGS, parseModelProto } from './model-proto.js';
import { META_SPACE, normalize } from './normalizer.js';
import { PrefixMatcher } from './prefix-matcher.js';
import type { PieceType, SentencePieceEntry, SentencePieceSettings } from './types.js';

export interface SentencePieceOptions extends Partial<SentencePieceSettings> {
  /** Named in error messages, e.g. the file the pieces came from. */
  source?: string;
  /**
   * Ids that override the ones found from bosPiece / eosPiece / padPiece (a GGUF file states them
   * directly); -1 for none.
   */
  bosId?: number;
  eosId?: number;
  padId?: number;
}

const UTF8 = new TextEncoder();
/** Words longer than this are not cached (a long run without spaces is rarely seen twice). */
const MAX_CACHED_WORD = 64;
/** The cache starts over past this many words. */
const MAX_CACHED_WORDS = 100_000;

/** Whether a piece has `▁` right after another character than `▁`. */
function hasInnerMetaSpace(piece: string): boolean {
  for (let i = piece.indexOf(META_SPACE, 1); i > 0; i = piece.indexOf(META_SPACE, i + 1)) {
    if (piece[i - 1] !== META_SPACE) return true;
  }
  return false;
}

/** Where the word after the one starting at `from` starts: the next `▁` that follows another character. */
function nextWordStart(text: string, from: number): number {
  let i = text.indexOf(META_SPACE, from + 1);
  while (i > 0 && text.charCodeAt(i - 1) === 0x2581) i = text.indexOf(META_SPACE, i + 1);
  return i < 0 ? text.length : i;
}
const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

/**
 * The tokenizer of Llama 1 and 2 (and Code Llama, TinyLlama, Vicuna...): a SentencePiece BPE model,
 * encoding and decoding exactly as the `sentencepiece` library does (see README). Built from a
 * `tokenizer.model` file (`fromModelProto`) or from pieces, scores and types (`fromPieces`, e.g. as a
 * GGUF file lists them). Runs anywhere (no Node, no WASM).
 */
export class SentencePieceTokenizer implements TextTokenizer {
  /** Vocabulary size: the number of pieces (32000 for Llama 2). */
  readonly nWords: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  /** Generation stops at end-of-sentence, as Llama 2's reference does. */
  readonly stopTokens: ReadonlySet<number>;
  readonly settings: Readonly<SentencePieceSettings>;

  readonly #entries: readonly SentencePieceEntry[];
  readonly #reserved = new Map<string, number>();
  readonly #mergeable: ReadonlyMap<string, number>;
  /**
   * True when no piece has `▁` after another character than `▁` (Llama's vocabulary: a space only
   * starts pieces) and none is unused. Then no merge crosses the start of a word (a `▁` after
   * something else), merges in different words do not interact, and words can be encoded one at a
   * time and cached: the same ids as the whole text at once, many times faster.
   */
  readonly #wordsAreIndependent: boolean;
  readonly #wordCache = new Map<string, Int32Array>();
  readonly #bpe: BpeVocabulary;
  readonly #decode: DecodeVocabulary;
  /** Byte value → id of its byte piece (with byte fallback). */
  readonly #byteIds = new Int32Array(256).fill(-1);

  private constructor(entries: readonly SentencePieceEntry[], options: SentencePieceOptions) {
    const source = options.source ?? 'SentencePiece vocabulary';
    const settings: SentencePieceSettings = { ...PROTO_DEFAULT_SETTINGS };
    for (const key of Object.keys(PROTO_DEFAULT_SETTINGS) as (keyof SentencePieceSettings)[]) {
      if (options[key] !== undefined) (settings as unknown as Record<string, unknown>)[key] = options[key];
    }
    this.settings = Object.freeze(settings);
    this.#entries = entries;
    this.nWords = entries.length;

    const mergeable = new Map<string, number>();
    const scores = new Float64Array(entries.length);
    const userDefined: string[] = [];
    const unused = new Set<number>();
    const byteValues = new Int16Array(entries.length).fill(-1);
    let unkId = -1;
    entries.forEach((entry, id) => {
      const { piece, type } = checkEntry(entry, id, source);
      scores[id] = entry.score;
      const isMergeable = type === 'normal' || type === 'user_defined' || type === 'unused';
      const map = isMergeable ? mergeable : this.#reserved;
      if (map.has(piece)) throw new TokenizerError(`${source}: piece ${describe(piece)} (id ${id}) is defined twice`);
      map.set(piece, id);
      if (type === 'user_defined') userDefined.push(piece);
      if (type === 'unused') unused.add(id);
      if (type === 'unknown') {
        if (unkId >= 0) throw new TokenizerError(`${source}: two unknown pieces (ids ${unkId} and ${id})`);
        unkId = id;
      }
      if (type === 'byte') {
        const match = BYTE_PIECE.exec(piece);
        if (!match) throw new TokenizerError(`${source}: byte piece ${describe(piece)} (id ${id}) is not <0xNN>`);
        const value = Number.parseInt(match[1] as string, 16);
        byteValues[id] = value;
        this.#byteIds[value] = id;
      }
    });
    if (unkId < 0) throw new TokenizerError(`${source}: no unknown piece (<unk>); a SentencePiece model needs one`);
    const bytePieces = this.#byteIds.filter((id) => id >= 0).length;
    if (settings.byteFallback && bytePieces !== 256) {
      throw new TokenizerError(
        `${source}: byte_fallback is on but the vocabulary has ${bytePieces} of the 256 byte pieces`,
      );
    }
    if (!settings.byteFallback && bytePieces > 0) {
      throw new TokenizerError(`${source}: the vocabulary has byte pieces but byte_fallback is off`);
    }
    this.unkId = unkId;
    this.bosId = this.#specialId(options.bosId, settings.bosPiece, 'bosId', source);
    this.eosId = this.#specialId(options.eosId, settings.eosPiece, 'eosId', source);
    this.padId = this.#specialId(options.padId, settings.padPiece, 'padId', source);
    this.stopTokens = new Set(this.eosId >= 0 ? [this.eosId] : []);
    this.#mergeable = mergeable;
    this.#wordsAreIndependent =
      settings.escapeWhitespaces && unused.size === 0 && ![...mergeable.keys()].some(hasInnerMetaSpace);
    this.#bpe = new BpeVocabulary(mergeable, entries.length, scores, unused, new PrefixMatcher(userDefined));
    this.#decode = {
      pieces: entries.map((e) => e.piece),
      types: entries.map((e) => e.type),
      byteValues,
      unkSurface: settings.unkSurface,
      stripsLeadingSpace: settings.addDummyPrefix || settings.removeExtraWhitespaces,
      removeExtraWhitespaces: settings.removeExtraWhitespaces,
    };
  }

  /** From the bytes of a SentencePiece `tokenizer.model` (protobuf ModelProto), e.g. Llama 2's. */
  static fromModelProto(bytes: Uint8Array, options: { source?: string } = {}): SentencePieceTokenizer {
    const source = options.source ?? 'tokenizer.model';
    if (!(bytes instanceof Uint8Array)) {
      throw new TokenizerError(
        `SentencePieceTokenizer.fromModelProto: expected the file's bytes, got ${describe(bytes)}`,
      );
    }
    const { pieces, settings } = parseModelProto(bytes, source);
    return new SentencePieceTokenizer(pieces, { ...settings, source });
  }

  /**
   * From the vocabulary itself: pieces in id order with their scores and types, and the settings the
   * model file would hold (defaults: the protobuf's; Llama's differ in removeExtraWhitespaces: false
   * and byteFallback: true).
   */
  static fromPieces(pieces: readonly SentencePieceEntry[], options: SentencePieceOptions = {}): SentencePieceTokenizer {
    if (!Array.isArray(pieces)) {
      throw new TokenizerError(`SentencePieceTokenizer.fromPieces: pieces must be an array, got ${describe(pieces)}`);
    }
    return new SentencePieceTokenizer(pieces, options);
  }

  /** Encodes as `SentencePieceProcessor.encode(text)`, with bos/eos added as Llama 2's Tokenizer.encode. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') {
      throw new TokenizerError(`SentencePieceTokenizer.encode: text must be a string, got ${describe(text)}`);
    }
    const ids: number[] = [];
    if (options.bos) ids.push(this.#requireId(this.bosId, 'bos'));
    this.#encodeInto(text, ids);
    if (options.eos) ids.push(this.#requireId(this.eosId, 'eos'));
    return ids;
  }

  /** The pieces `encode(text)` gives (without bos/eos), as `encode(text, out_type=str)`. */
  encodePieces(text: string): string[] {
    return this.encode(text).map((id) => this.idToPiece(id));
  }

  /** Decodes as `SentencePieceProcessor.decode(ids)`. */
  decode(ids: ArrayLike<number>): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new TokenizerError(
        `SentencePieceTokenizer.decode: ids must be an array of token ids, got ${describe(ids)}`,
      );
    }
    for (let i = 0; i < ids.length; i++) {
      if (!this.#isId(ids[i])) this.#checkId(ids[i], `SentencePieceTokenizer.decode: ids[${i}]`);
    }
    const decoder = this.#decoder('SentencePieceTokenizer.decode: id');
    let text = '';
    for (let i = 0; i < ids.length; i++) text += decoder.push(ids[i] as number);
    return text + decoder.end();
  }

  /** A decoder fed one id at a time; what it returns adds up to `decode(ids)` (see StreamDecoder). */
  streamDecoder(): StreamDecoder {
    return this.#decoder('SentencePieceTokenizer.streamDecoder: id');
  }

  idToPiece(id: number): string {
    return this.#entries[this.#checkId(id, 'SentencePieceTokenizer.idToPiece: id')]?.piece as string;
  }

  /** The id of a piece, or unkId when the vocabulary has no such piece (as sentencepiece's PieceToId). */
  pieceToId(piece: string): number {
    return this.#reserved.get(piece) ?? this.#mergeable.get(piece) ?? this.unkId;
  }

  pieceType(id: number): PieceType {
    return this.#entries[this.#checkId(id, 'SentencePieceTokenizer.pieceType: id')]?.type as PieceType;
  }

  pieceScore(id: number): number {
    return this.#entries[this.#checkId(id, 'SentencePieceTokenizer.pieceScore: id')]?.score as number;
  }

  #encodeInto(text: string, ids: number[]): void {
    const normalized = normalize(text, this.settings, this.#bpe.userDefined);
    if (!this.#wordsAreIndependent) {
      this.#encodeSymbols(normalized, ids);
      return;
    }
    // Word by word, each word's ids cached (see #wordsAreIndependent). Within a word a run of unknown
    // symbols is already one <unk>; across words it is joined here.
    const joinUnknown = !this.settings.byteFallback;
    let previousUnknown = false;
    for (let from = 0; from < normalized.length; ) {
      const to = nextWordStart(normalized, from);
      const word = normalized.slice(from, to);
      let wordIds = this.#wordCache.get(word);
      if (wordIds === undefined) {
        const encoded: number[] = [];
        this.#encodeSymbols(word, encoded);
        wordIds = Int32Array.from(encoded);
        if (word.length <= MAX_CACHED_WORD) {
          if (this.#wordCache.size >= MAX_CACHED_WORDS) this.#wordCache.clear();
          this.#wordCache.set(word, wordIds);
        }
      }
      for (let j = joinUnknown && previousUnknown && wordIds[0] === this.unkId ? 1 : 0; j < wordIds.length; j++) {
        ids.push(wordIds[j] as number);
      }
      if (wordIds.length > 0) previousUnknown = wordIds[wordIds.length - 1] === this.unkId;
      from = to;
    }
  }

  /** sentencepiece's model encode of normalised text, then byte fallback or <unk> runs joined. */
  #encodeSymbols(normalized: string, ids: number[]): void {
    const { segments, unusedSplits } = bpeSegments(normalized, this.#bpe);
    let previousUnknown = false;
    const emit = (symbol: string, id: number): void => {
      const unknown = id === this.unkId;
      if (unknown && this.settings.byteFallback) {
        for (const byte of UTF8.encode(symbol)) ids.push(this.#byteIds[byte] as number);
      } else if (!(unknown && previousUnknown)) {
        // A run of unknown symbols is one <unk>, as sentencepiece merges them.
        ids.push(id);
      }
      previousUnknown = unknown;
    };
    // sentencepiece's resegment: an unused piece that merges produced is split back into the two
    // symbols it was merged from, recursively.
    const resegment = (symbol: string): void => {
      const id = this.pieceToId(symbol);
      const split = this.#pieceTypeOf(id) === 'unused' ? unusedSplits.get(symbol) : undefined;
      if (split === undefined) {
        emit(symbol, id);
      } else {
        resegment(split[0]);
        resegment(split[1]);
      }
    };
    for (let k = 0; k < segments.length; k += 2) resegment(normalized.slice(segments[k], segments[k + 1]));
  }

  #pieceTypeOf(id: number): PieceType | undefined {
    return this.#entries[id]?.type;
  }

  #decoder(what: string): StreamDecoder {
    return createSentencePieceDecoder(this.#decode, (id) => this.#checkId(id, what));
  }

  #specialId(given: number | undefined, piece: string, what: string, source: string): number {
    if (given !== undefined) {
      if (given !== -1 && !(Number.isInteger(given) && given >= 0 && given < this.nWords)) {
        throw new TokenizerError(
          `${source}: ${what} is ${describe(given)}; expected -1 or an id in 0..${this.nWords - 1}`,
        );
      }
      return given;
    }
    const id = this.#reserved.get(piece);
    return id !== undefined && this.#entries[id]?.type === 'control' ? id : -1;
  }

  #requireId(id: number, what: string): number {
    if (id < 0)
      throw new TokenizerError(`SentencePieceTokenizer.encode: ${what} asked for, but the model has no ${what} piece`);
    return id;
  }

  #isId(id: unknown): id is number {
    return Number.isInteger(id) && (id as number) >= 0 && (id as number) < this.nWords;
  }

  #checkId(id: unknown, what: string): number {
    if (!this.#isId(id)) {
      throw new TokenizerError(`${what} is ${describe(id)}; expected an integer token id in 0..${this.nWords - 1}`);
    }
    return id;
  }
}

function checkEntry(entry: unknown, id: number, source: string): SentencePieceEntry {
  const e = entry as Partial<SentencePieceEntry> | null;
  if (typeof e !== 'object' || e === null || typeof e.piece !== 'string' || e.piece === '') {
    throw new TokenizerError(`${source}: piece ${id} must be { piece: non-empty string, score, type }`);
  }
  if (typeof e.score !== 'number' || Number.isNaN(e.score)) {
    throw new TokenizerError(
      `${source}: piece ${id} (${describe(e.piece)}) has score ${describe(e.score)}; expected a number`,
    );
  }
  if (!PIECE_TYPES.has(e.type as PieceType)) {
    throw new TokenizerError(
      `${source}: piece ${id} (${describe(e.piece)}) has type ${describe(e.type)}; expected one of ${[...PIECE_TYPES].join(', ')}`,
    );
  }
  return e as SentencePieceEntry;
}

const PIECE_TYPES = new Set<PieceType>(['normal', 'unknown', 'control', 'user_defined', 'unused', 'byte']);
