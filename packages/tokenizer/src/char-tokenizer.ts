import { describeValue, TokenizerError } from './errors.js';
import { BEGIN_OF_TEXT, END_OF_TEXT } from './special-tokens.js';
import { createStreamDecoder, type StreamDecoder } from './stream-decoder.js';
import type { EncodeOptions, TextTokenizer } from './types.js';

const PAD_ID = '<|pad_id|>';
/** Appended after the characters, in this order, as the from-scratch recipe does. */
const CHAR_SPECIAL_TOKENS = [BEGIN_OF_TEXT, END_OF_TEXT, PAD_ID] as const;
const JSON_FORMAT = 'llama-ts/char-tokenizer';
const JSON_VERSION = 1;

export interface CharTokenizerJSON {
  format: typeof JSON_FORMAT;
  version: typeof JSON_VERSION;
  /** Token id = index: the corpus characters by code point, then the three special tokens. */
  vocab: string[];
}

/**
 * The from-scratch model's tokenizer: one token per character (code point) of the training
 * corpus, sorted by code point, followed by `<|begin_of_text|>`, `<|end_of_text|>`, `<|pad_id|>`.
 */
export class CharTokenizer implements TextTokenizer {
  readonly vocab: readonly string[];
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly stopTokens: ReadonlySet<number>;
  readonly #idOf: ReadonlyMap<string, number>;
  readonly #encoder = new TextEncoder();

  private constructor(chars: readonly string[]) {
    this.vocab = Object.freeze([...chars, ...CHAR_SPECIAL_TOKENS]);
    this.#idOf = new Map(chars.map((c, i) => [c, i]));
    this.bosId = chars.length;
    this.eosId = chars.length + 1;
    this.padId = chars.length + 2;
    this.stopTokens = new Set([this.eosId]);
  }

  static fromCorpus(corpus: string): CharTokenizer {
    if (typeof corpus !== 'string' || corpus.length === 0) {
      throw new TokenizerError(
        `CharTokenizer.fromCorpus: corpus must be a non-empty string, got ${describeValue(corpus)}`,
      );
    }
    const chars = [...new Set(corpus)].sort(byCodePoint);
    return new CharTokenizer(chars);
  }

  /** Restores a tokenizer saved with `toJSON` (e.g. the `tokenizer.json` beside a checkpoint). */
  static fromJSON(json: unknown, source = 'CharTokenizer JSON'): CharTokenizer {
    const data = json as Partial<CharTokenizerJSON> | null;
    if (typeof data !== 'object' || data === null || data.format !== JSON_FORMAT) {
      throw new TokenizerError(`${source}: field "format" must be "${JSON_FORMAT}"`);
    }
    if (data.version !== JSON_VERSION) {
      throw new TokenizerError(
        `${source}: field "version" is ${describeValue(data.version)}; this library reads version ${JSON_VERSION}`,
      );
    }
    const vocab = data.vocab;
    if (!Array.isArray(vocab) || vocab.length <= CHAR_SPECIAL_TOKENS.length) {
      throw new TokenizerError(
        `${source}: field "vocab" must be an array of characters followed by ${CHAR_SPECIAL_TOKENS.join(', ')}`,
      );
    }
    const chars = vocab.slice(0, -CHAR_SPECIAL_TOKENS.length);
    CHAR_SPECIAL_TOKENS.forEach((name, i) => {
      const found = vocab[chars.length + i];
      if (found !== name) {
        throw new TokenizerError(`${source}: vocab[${chars.length + i}] is ${describeValue(found)}; expected ${name}`);
      }
    });
    chars.forEach((c, i) => {
      if (typeof c !== 'string' || [...c].length !== 1) {
        throw new TokenizerError(`${source}: vocab[${i}] is ${describeValue(c)}; expected a single character`);
      }
      if (i > 0 && byCodePoint(chars[i - 1] as string, c) >= 0) {
        throw new TokenizerError(`${source}: vocab[${i}] ${describeValue(c)} is out of code-point order or repeated`);
      }
    });
    return new CharTokenizer(chars);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  get nWords(): number {
    return this.vocab.length;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') {
      throw new TokenizerError(`CharTokenizer.encode: text must be a string, got ${describeValue(text)}`);
    }
    const ids: number[] = [];
    if (options.bos) ids.push(this.bosId);
    let position = 0;
    for (const char of text) {
      const id = this.#idOf.get(char);
      if (id === undefined) {
        throw new TokenizerError(
          `CharTokenizer.encode: character ${describeValue(char)} (U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}) at position ${position} is not in the vocabulary`,
        );
      }
      ids.push(id);
      position++;
    }
    if (options.eos) ids.push(this.eosId);
    return ids;
  }

  /** The characters of the ids; special tokens give their names. */
  decode(ids: ArrayLike<number>): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) text += this.#token(ids[i], `CharTokenizer.decode: ids[${i}]`);
    return text;
  }

  /** Every token is whole characters, so streaming needs no buffering; offered for symmetry with Tokenizer. */
  streamDecoder(): StreamDecoder {
    return createStreamDecoder((id) => this.#encoder.encode(this.#token(id, 'CharTokenizer stream: id')));
  }

  toJSON(): CharTokenizerJSON {
    return { format: JSON_FORMAT, version: JSON_VERSION, vocab: [...this.vocab] };
  }

  #token(id: unknown, what: string): string {
    const token = typeof id === 'number' && Number.isInteger(id) ? this.vocab[id] : undefined;
    if (token === undefined) {
      throw new TokenizerError(
        `${what} is ${describeValue(id)}; expected an integer token id in 0..${this.vocab.length - 1}`,
      );
    }
    return token;
  }
}

function byCodePoint(a: string, b: string): number {
  return (a.codePointAt(0) as number) - (b.codePointAt(0) as number);
}
